"""Pure domain logic: records, tiers, reminders, search, change summaries.

Nothing here touches files, git or Textual; functions that depend on the date
take `today` as an argument.
"""
