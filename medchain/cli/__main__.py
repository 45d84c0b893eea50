from medchain.cli import main

main()
