from reclaim.entrypoints.cli import main

main()
