"""A person's due dates: the notices on the home page and the private calendar feed."""
