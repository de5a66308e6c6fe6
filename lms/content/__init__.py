"""The course content format as pure logic: no Flask, no database.

``errors`` holds the problem a content file can have, ``quiz`` reads the
Markdown quiz syntax, ``syntax`` holds the patterns that the quiz reader and the
quiz writers must agree on, and ``gift`` converts Moodle GIFT files into quiz
modules. Courses (checking and syncing content) and assessments (grading,
statistics, the ``lms quiz`` commands) import this package; it imports neither.
"""
