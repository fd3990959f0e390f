"""The demo installation `make run` brings up: seed data (`seed_demo`) and the process
supervisor (`rundemo`). It sits above the apps it seeds, so none of them imports it."""
