"""Records what Buildbot 4.3's maildir parsers return for the mails in tests/changes/fixtures
(run with the reference's interpreter:
`/work/refvenv/bin/python tests/changes/record/record_mail_4_3.py`); writes
fixtures/mail_parsed_4_3.json. The SVN parser's time is the time of receipt: "NOW"."""

import json
from pathlib import Path

from buildbot.changes import mail

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MAILS = [("CVSMaildirSource", "cvs_1_11.eml", None),
         ("CVSMaildirSource", "cvs_1_12b.eml", None),
         ("SVNCommitEmailMaildirSource", "svn_commit.eml", "spamassassin/trunk/")]

out = {}
for cls, filename, prefix in MAILS:
    with open(FIXTURES / filename, encoding="utf-8") as f:
        parsed = getattr(mail, cls)("/nonexistent").parse_file(f, prefix)
    if parsed and parsed[0] == "svn":
        parsed[1]["when"] = "NOW"
    out[filename] = parsed
(FIXTURES / "mail_parsed_4_3.json").write_text(json.dumps(out, indent=1) + "\n")
