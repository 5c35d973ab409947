from tpi_cli.cli import main

main()
