"""Reading lists: the papers a user saves, their export to reference managers."""
