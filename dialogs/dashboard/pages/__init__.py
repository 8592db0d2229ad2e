"""The pages. Each module has ``build(ctx) -> PageView``: tiles, filters, and blocks of a chart
and a table; the CSV of a table is that same table (dialogs/dashboard/tables.py).

overview.py        promoters per section, reachability, sections nobody can be reached in
announcements.py   delivered and confirmed shares, sections still unconfirmed
surveys.py         response rates, trends, tool adoption (the survey feature's figures, suppressed)
questions.py       most asked, unanswered, ticket backlog and age, feedback per entry
cases.py           成果: published improvement cases, hours saved, recognition (the cases feature's sums)
"""
