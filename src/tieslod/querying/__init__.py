"""Reading a release: store access, query policy, resource descriptions, entity index, connections, neighbourhood."""
