from yipanqi.cli import main

main()
