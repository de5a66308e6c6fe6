"""The site as a whole, above every domain: the home page, the main menu, the demo data.

Each of these draws on several domains (the home page shows a person's required
courses, their progress and yearly hours; the demo makes accounts, staff,
enrolments and attempts), so none of them may live in a domain that another
imports.
"""
