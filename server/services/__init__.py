"""Services: the domain rules between routes and storage."""
