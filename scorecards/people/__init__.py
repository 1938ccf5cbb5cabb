"""The read and review side for people: who may see what, accounts, pages' views, reviews and disputes,
regression examples, exports and reports. It reads and writes through the store (scorecards.store.database)."""
