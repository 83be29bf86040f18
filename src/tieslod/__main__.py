"""`python -m tieslod`: the same CLI as the `tieslod` command."""
from .cli import main

main()
