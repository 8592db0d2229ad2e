"""Relay requests (伝達依頼): an announcement asks each section's promoters to pass it on inside their
section by a relay deadline; after confirming, the leader or a sub-leader reports 「課内に伝達しました」
with how (and, if they like, how many staff it reached). One report per section; either promoter may
make or correct it.

- ``store``: the reports and the per-section status (delivered → read → confirmed → relayed);
- ``cards``: the relay part of a recipient's card, the author's figures and the 伝達状況 card;
- ``handlers``: the buttons (report, status, remind the sections not relayed, change the deadline);
- ``reminders``: reminders to the promoters of sections not relayed, by hand and automatically;
- ``deadline``: 「伝達期限を変更」 after sending (cards, the automatic reminder and the audit log follow);
- ``channels``: the section's own channel and the copy a promoter posts there.
"""
