from fangfan.cli import main

main()
