"""A corpus of realistic LLM-application texts with planted personal data and secrets, plus hard
negatives that look numeric or name-like but are not personal.

Shared fixture: the scrubber tests measure recall and precision on it, and the security and
payload-store tests reuse it to prove that nothing planted ever reaches a store, a span or a log.

Markup: ``[[KIND:value]]`` plants ``value`` (kind ``EMAIL``, ``PHONE``, ``CARD``, ``IBAN``,
``SSN``, ``IP``, ``SECRET`` or ``PERSON``); the markup is removed from :attr:`Sample.text` and
the exact span is kept in :attr:`Sample.planted`. Provider tokens are assembled from pieces at
import time so that no literal credential-shaped string sits in the repository.

UUIDs, git SHAs and hex digests are deliberately *not* personal data: they appear among the
hard negatives and must survive scrubbing unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET", "PERSON")


@dataclass(frozen=True, kw_only=True)
class Planted:
    kind: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class Sample:
    name: str
    text: str
    planted: tuple[Planted, ...]


@dataclass(frozen=True, kw_only=True)
class Negative:
    name: str
    text: str


_MARK = re.compile(r"\[\[([A-Z]+):(.*?)\]\]", re.DOTALL)


def _sample(name: str, marked: str) -> Sample:
    parts: list[str] = []
    planted: list[Planted] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(marked):
        kind, value = m.group(1), m.group(2)
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind} in sample {name}")
        chunk = marked[pos:m.start()]
        parts.append(chunk)
        length += len(chunk)
        planted.append(Planted(kind=kind, value=value, start=length, end=length + len(value)))
        parts.append(value)
        length += len(value)
        pos = m.end()
    parts.append(marked[pos:])
    return Sample(name=name, text="".join(parts), planted=tuple(planted))


def _j(*pieces: str) -> str:
    return "".join(pieces)


# Credential-shaped values, built from pieces.
OPENAI_KEY = _j("sk-", "proj-", "Xq8vT2mLp4Rz9WcN1bYd6KfH3sJ0uE7gA5iO")
OPENAI_LEGACY_KEY = _j("sk-", "3xKfR9mQ2vLp8TzW4cNb7YdH1sJ6uE0gA5iOqRt")
ANTHROPIC_KEY = _j("sk-", "ant-", "api03-", "Zx7Qm2Lp9Vt4Rk8Wn3Bc6Yd1Hf5Js0Ue-Ga2Io7Pq4Mr9Ts1Wx6Ny3Kz8Lb5Vc-AbCdEf")
AWS_ACCESS_KEY_ID = _j("AKIA", "IOSFODNN7EXAMPLE")
AWS_SESSION_KEY_ID = _j("ASIA", "Q3EXAMPLE7KEY9ZZ")
AWS_SECRET_KEY = _j("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY")
GITHUB_TOKEN = _j("ghp", "_", "R2d2C3poBb8Ll7Kk6Jj5Hh4Gg3Ff2Ee1Dd0Cc")
GITHUB_PAT = _j("github", "_pat_", "11AQWERTY0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS")
SLACK_TOKEN = _j("xox", "b-", "2468013579-1357924680-AbCdEfGhIjKlMnOpQrStUvWx")
GOOGLE_KEY = _j("AIza", "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q")
STRIPE_KEY = _j("sk", "_live_", "51HqLmN2pQ3rS4tU5vW6xY7zA8")
HF_TOKEN = _j("hf", "_", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")
JWT = _j("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ".",
         "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IlRlc3QgVXNlciIsImlhdCI6MTUxNjIzOTAyMn0", ".",
         "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
JWT_RS = _j("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0", ".", "eyJzY29wZSI6InJlYWQifQ", ".",
            "c2lnbmF0dXJlLWJ5dGVzLWdvLWhlcmU")
PRIVATE_KEY = _j("-----BEGIN ", "RSA PRIVATE KEY-----\n",
                 "MIIEowIBAAKCAQEAx3Lk9pQ2mZ8vR4tW7yB1cN6dF0gH5jK2lM9nP3qS8uV4wX7z\n",
                 "Yb2Cd5Ef8Gh1Ij4Kl7Mn0Op3Qr6St9Uv2Wx5Yz8Ab1Cd4Ef7Gh0Ij3Kl6Mn9Op2Q\n",
                 "-----END ", "RSA PRIVATE KEY-----")

SAMPLES: tuple[Sample, ...] = tuple(_sample(name, marked) for name, marked in (
    ("support chat", "User: Hi, my name is [[PERSON:Sarah Johnson]] and my order hasn't arrived. "
     "You can reach me at [[EMAIL:sarah.johnson@example.co.uk]] or on [[PHONE:+44 20 7946 0958]].\n"
     "Assistant: Thanks [[PERSON:Sarah]], I'm checking order ORD-2024-004417 now."),
    ("us customer email", "Dear [[PERSON:Michael Thompson]],\n\nWe received your payment of "
     "$1,249.00 on 03/14/2024. For questions call [[PHONE:(555) 123-4567]] ext. 2 or write to "
     "[[EMAIL:billing@acme-corp.com]]. Your customer number is 88213.\n\nBest regards,\n"
     "[[PERSON:Jennifer Martinez]]\nAccount Manager"),
    ("refund with card", "Please refund the last charge to my card [[CARD:4526 0181 5908 3012]] "
     "(exp 09/27). The amount was 389.90 EUR, charged on 2024-03-05 at 09:41."),
    ("card without spaces in json", '{"tool": "charge_card", "args": {"number": "[[CARD:5196030824628192]]", '
     '"cvc": "123", "amount_cents": 4999, "currency": "usd", "customer": "cus_00042"}}'),
    ("amex dashes", "Corporate Amex on file: [[CARD:3432-319487-57494]]; billing zip 94105."),
    ("several cards", "Cards tried: [[CARD:6011 9555 9797 1141]], then [[CARD:3530 9170 3423 6677]], "
     "finally [[CARD:2221937865797544]]. All three were declined after 3 attempts."),
    ("visa 19 digits", "The new card number is [[CARD:4786666176031372157]] according to the bank letter."),
    ("diners and visa13", "Old cards: [[CARD:36127684268468]] and [[CARD:4268599528907]]."),
    ("unionpay", "支付卡号 [[CARD:6256321223307924409]] 已绑定。"),
    ("german iban", "Bitte überweisen Sie 1.250,00 € auf das Konto [[IBAN:DE41 6245 9571 1777 7412 15]] "
     "(Kontoinhaber: [[PERSON:Jürgen Müller]]). Verwendungszweck: Rechnung 2024-0117."),
    ("uk iban compact", "Refund account: [[IBAN:GB07XIPW28038528084148]], sort code 20-00-00."),
    ("french iban", "IBAN : [[IBAN:FR62 5253 8885 3933 6338 7500 474]] BIC : BNPAFRPPXXX — "
     "merci, [[PERSON:Élodie Laurent]]"),
    ("many ibans", "Payouts: ES [[IBAN:ES22 3957 5513 1373 5379 9075]], IT [[IBAN:IT92Z1163726516761222029729]], "
     "NL [[IBAN:NL23 TPVL 2882 0018 26]], BE [[IBAN:BE13330434839548]], CH [[IBAN:CH25 6205 7986 8282 8807 2]]."),
    ("nordic ibans", "Accounts: [[IBAN:SE2883848372616751361341]], [[IBAN:NO50 2524 2731 672]], "
     "[[IBAN:DK6532686563551505]] and [[IBAN:FI04 8770 6589 4811 31]]."),
    ("more ibans", "AT [[IBAN:AT499022279180588871]] PL [[IBAN:PL08 8033 4018 7801 7598 9834 7887]] "
     "IE [[IBAN:IE53 CIIB 2426 4628 8975 14]] PT [[IBAN:PT85026140141931417058649]]"),
    ("ibans in a table", "| country | iban |\n|---|---|\n| GR | [[IBAN:GR8620831240234483478245040]] |\n"
     "| CZ | [[IBAN:CZ48 0088 3873 7167 8684 3353]] |\n| RO | [[IBAN:RO5426502014620168493407]] |\n"
     "| HU | [[IBAN:HU43224704558530435205617483]] |\n| TR | [[IBAN:TR65 3801 4126 9060 4431 9829 65]] |"),
    ("gulf ibans", "Transfer to [[IBAN:SA0772492086828890931002]] or [[IBAN:AE575167800837407188181]]; "
     "Brazil: [[IBAN:BR867414333776174093192544992]]; Luxembourg: [[IBAN:LU220707413748477718]]."),
    ("ssn form", "Applicant: [[PERSON:Robert Williams]]\nSSN: [[SSN:123-45-6789]]\nDOB: 1985-07-21\n"
     "Address: 742 Evergreen Terrace, Springfield"),
    ("ssn with spaces", "my social is [[SSN:078 05 1120]], please update my file (case 55102)."),
    ("ssn unformatted labelled", "Employee record: ssn=[[SSN:219099999]], grade 7, start date 2021-09-01."),
    ("ssn prose", "The W-2 shows SSN [[SSN:536-22-8109]] for tax year 2023 with wages of $84,512.33."),
    ("us phones", "Call me at [[PHONE:555-867-5309]] or my office [[PHONE:(415) 555-0132]]; fax "
     "[[PHONE:415.555.0199]]. Toll free [[PHONE:1-800-555-0143]]."),
    ("intl phones", "Contacts: Paris [[PHONE:+33 6 12 34 56 78]], Berlin [[PHONE:+49 30 12345678]], "
     "Mumbai [[PHONE:+91 98765 43210]], São Paulo [[PHONE:+55 11 91234-5678]], Tokyo [[PHONE:+81-3-1234-5678]]."),
    ("local european phones", "Numbers: [[PHONE:06 12 34 56 78]] (mobile), [[PHONE:020 7946 0958]] (London), "
     "[[PHONE:07700 900123]] and [[PHONE:030 12345678]]."),
    ("more local phones", "Sydney office [[PHONE:(02) 9876 5432]]; Munich [[PHONE:089-1234-5678]]; "
     "Madrid [[PHONE:+34 612 345 678]]; mobile [[PHONE:0151 23456789]]."),
    ("e164 compact", '{"to": "[[PHONE:+14155550123]]", "body": "Your code is 482913", "retries": 3}'),
    ("labelled phone", "Tel: [[PHONE:5551234567]]\nMobile: [[PHONE:07911123456]]\nPhone number is [[PHONE:555-0199]]"),
    ("phone with 00 prefix", "From abroad dial [[PHONE:0044 20 7946 0123]] between 9:00 and 17:30."),
    ("ipv4 logs", "2024-03-12T10:15:07Z GET /api/v1/orders 200 from [[IP:203.0.113.42]] "
     "(x-forwarded-for: [[IP:198.51.100.7]], [[IP:10.20.30.40]]) in 142 ms"),
    ("ipv4 config", "db host=[[IP:192.168.1.20]] port=5432; replica [[IP:172.16.254.3]]:5433; "
     "allow [[IP:8.8.8.8]]/32"),
    ("ipv6", "Client address [[IP:2001:db8:85a3::8a2e:370:7334]] connected; previous session from "
     "[[IP:fe80::1ff:fe23:4567:890a]] and [[IP:2001:0db8:0000:0000:0000:ff00:0042:8329]]."),
    ("ipv6 mapped", "peer=[[IP:::ffff:192.0.2.128]] latency=23ms"),
    ("openai key in env", f"export OPENAI_API_KEY=[[SECRET:{OPENAI_KEY}]]\nexport MODEL=gpt-4o"),
    ("keys in code", f'client = OpenAI(api_key="[[SECRET:{OPENAI_LEGACY_KEY}]]")\n'
     f'claude = Anthropic(api_key="[[SECRET:{ANTHROPIC_KEY}]]")'),
    ("aws credentials file", f"[default]\naws_access_key_id = [[SECRET:{AWS_ACCESS_KEY_ID}]]\n"
     f"aws_secret_access_key = [[SECRET:{AWS_SECRET_KEY}]]\nregion = eu-west-1"),
    ("aws in prose", f"The temporary key id is [[SECRET:{AWS_SESSION_KEY_ID}]] and the secret access key "
     f"[[SECRET:{AWS_SECRET_KEY}]] expires at 18:00."),
    ("github token", f"git clone https://[[SECRET:{GITHUB_TOKEN}]]@github.com/acme/api.git"),
    ("github pat", f"GITHUB_TOKEN: [[SECRET:{GITHUB_PAT}]]"),
    ("slack token", f"slack_client = WebClient(token='[[SECRET:{SLACK_TOKEN}]]')"),
    ("google key", f"https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key=[[SECRET:{GOOGLE_KEY}]]"),
    ("stripe and hf", f"STRIPE_SECRET=[[SECRET:{STRIPE_KEY}]]\nHF token [[SECRET:{HF_TOKEN}]] for the private model"),
    ("jwt in header", f"curl -H 'Authorization: Bearer [[SECRET:{JWT}]]' https://api.example.com/me"),
    ("jwt bare", f"The id_token returned was [[SECRET:{JWT_RS}]] (expires in 3600 s)."),
    ("opaque bearer", "GET /v2/items HTTP/1.1\nHost: api.example.com\n"
     "Authorization: Bearer [[SECRET:9f8e7d6c5b4a39281706f5e4d3c2b1a0]]\nAccept: application/json"),
    ("password assignments", 'DB_PASSWORD=[[SECRET:Tr0ub4dor&3]]\ndb_user: app\n{"password": "[[SECRET:S3cure#Pass2024]]"}'),
    ("django settings", "DEBUG = False\nSECRET_KEY = '[[SECRET:django-insecure-9x!k2m@p5#r8t$w1z]]'\nALLOWED_HOSTS = ['*']"),
    ("client secret yaml", "oauth:\n  client_id: web-frontend\n  client_secret: [[SECRET:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5]]\n  scopes: [openid, email]"),
    ("password in prose", "FYI the wifi password is [[SECRET:Sunflower#42]] and the guest network is open."),
    ("connection string", "postgresql://app_user:[[SECRET:Pa55w0rd-Prod!]]@db.internal.example:5432/orders?sslmode=require"),
    ("private key", f"Here is the deploy key, keep it safe:\n[[SECRET:{PRIVATE_KEY}]]\nThanks!"),
    ("cookie header", "GET / HTTP/1.1\nCookie: [[SECRET:session=8f14e45fceea167a5a36dedd4bea2543; theme=dark]]\nUser-Agent: curl/8.4"),
    ("api key in json tool args", '{"name": "web_search", "arguments": "{\\"query\\": \\"weather in Lyon\\", '
     '\\"api_key\\": \\"[[SECRET:tvly-4f9a8b7c6d5e4f3a2b1c]]\\"}"}'),
    ("x-api-key header", "x-api-key: [[SECRET:a1b2c3d4e5f6a7b8c9d0e1f2]]\ncontent-type: application/json"),
    ("email variety", "Loop in [[EMAIL:j.doe+billing@mail.example.org]], [[EMAIL:ANA_LOPEZ@EXAMPLE.ES]] and "
     "[[EMAIL:wei.zhang@sub.domain.example.cn]]; not noreply."),
    ("email in json", '{"from": "[[EMAIL:alerts@monitoring.example.io]]", "to": ["[[EMAIL:oncall-team@example.com]]"], '
     '"subject": "Disk 92% full on node-7"}'),
    ("email header block", "From: [[PERSON:Priya Raghunathan]] <[[EMAIL:priya.r@example.in]]>\n"
     "To: [[PERSON:Tom Becker]] <[[EMAIL:tom.becker@example.de]]>\nSubject: Q3 numbers\n\n"
     "Hi [[PERSON:Tom]],\nattached are the Q3 numbers.\n\nCheers,\n[[PERSON:Priya]]"),
    ("greeting and signoff", "Hello [[PERSON:Oluwaseun]],\n\nThe contract is ready for signature.\n\n"
     "Kind regards,\n[[PERSON:Fatima Al-Hassan]]\nLegal Department"),
    ("titles", "Please schedule a call with Dr. [[PERSON:Nakamura]] and Prof. [[PERSON:Isabelle Fournier]]; "
     "Mr. [[PERSON:Okonkwo]] will join from Lagos."),
    ("titled without dots", "Ms [[PERSON:Kowalski]] and Mrs [[PERSON:Anna Lindqvist]] confirmed the booking."),
    ("chat intro lowercase", "user: hi there, i'm [[PERSON:priya sharma]] from the data team, can you help me "
     "write a SQL query?"),
    ("intro capitalised", "Hello! I'm [[PERSON:Mateo]] and I need to change my flight LH 2024 to Friday."),
    ("name label", "Name: [[PERSON:Chloé Dubois]]\nRoom: 204\nCheck-in: 2024-05-02\nGuests: 2"),
    ("json person fields", '{"first_name": "[[PERSON:Aaliyah]]", "last_name": "[[PERSON:Washington]]", '
     '"plan": "pro", "seats": 12}'),
    ("meeting notes", "Attendees: [[PERSON:Daniel Kim]], [[PERSON:Sofia Rossi]], [[PERSON:Ahmed Hassan]]\n"
     "Action items: [[PERSON:Daniel]] to update the roadmap by Friday; [[PERSON:Sofia]] to review the "
     "pricing page."),
    ("ticket", "Ticket #48213 reported by [[PERSON:Lukas Schneider]]: the export fails when the file is "
     "larger than 2 GB. Assigned to [[PERSON:Mei Ling Chen]]."),
    ("rag context", "Document 3: In 1998 the company was founded by [[PERSON:Rajesh Kumar]] and "
     "[[PERSON:Ingrid Johansson]] in Stockholm. Today it employs 4,300 people in 12 countries."),
    ("possessive", "Copy [[PERSON:Hannah]]'s notes into the shared drive and ping [[PERSON:Carlos Mendoza]]."),
    ("initials", "Signed, [[PERSON:J. Robert Oppenheimer]] and [[PERSON:Marie S. Curie]]"),
    ("particle names", "Reviewed by [[PERSON:Ludwig van Beethoven]] and [[PERSON:Maria de la Cruz]] on Monday."),
    ("surname first", "Résztvevők: [[PERSON:Nagy Gábor]] és [[PERSON:Kovács Anna]] (Budapest)."),
    ("tool result with people", "search_contacts returned 2 results: [[PERSON:Emily Watson]] (Sales, ext 4411), "
     "[[PERSON:Chinedu Okafor]] (Support, ext 4412)."),
    ("agent scratchpad", "Thought: The user [[PERSON:Grace Hopper]] asked for the invoice.\nAction: "
     "lookup_invoice\nAction Input: {\"customer\": \"[[PERSON:Grace Hopper]]\", \"year\": 2024}"),
    ("sales call transcript", "[00:03:12] [[PERSON:Kevin O'Brien]]: We can do 15% off if you sign by Q2.\n"
     "[00:03:20] [[PERSON:Yuki Tanaka]]: Let me check with [[PERSON:Hiroshi]] from procurement."),
    ("hr note", "[[PERSON:Aisha Bello]] joined on 2023-01-09 as Senior Engineer. Manager: [[PERSON:Patrick Murphy]]. "
     "Emergency contact: [[PERSON:Ibrahim Bello]], [[PHONE:+234 803 123 4567]]."),
    ("medical", "Patient: [[PERSON:Olga Petrova]], 54, reports chest pain since Tuesday. Referred by "
     "Dr. [[PERSON:Anand Iyer]]. Callback: [[PHONE:+7 912 345-67-89]]."),
    ("dear team with name", "Dear [[PERSON:Zanele]],\nthanks for the quick turnaround on the Johannesburg launch."),
    ("signature dash", "We shipped it!\n— [[PERSON:Thandiwe Nkosi]]"),
    ("unknown name with greeting", "Hi [[PERSON:Xochitl]], your table for 4 is confirmed for 19:30."),
    ("unknown first known surname", "The keynote speaker is [[PERSON:Tamsin Hernandez]] this year."),
    ("mixed everything", f"Customer [[PERSON:Lena Fischer]] ([[EMAIL:lena.fischer@example.de]], "
     f"[[PHONE:+49 151 23456789]]) paid with [[CARD:5548 2199 3518 1903]] from IP [[IP:81.2.69.160]]. "
     f"Webhook signed with [[SECRET:{STRIPE_KEY}]]."),
    ("log line", "level=error ts=2024-03-12T10:15:07.123Z user=[[EMAIL:d.nguyen@example.vn]] "
     "ip=[[IP:100.64.12.9]] msg=\"payment failed\" card_last4=4242 order=ORD-2024-004417"),
    ("spanish chat", "Hola, soy [[PERSON:Alejandro García]]. Mi teléfono es [[PHONE:+34 699 123 456]] "
     "y mi correo [[EMAIL:alejandro.garcia@example.es]]."),
    ("french chat", "Bonjour, je m'appelle [[PERSON:Camille Moreau]], mon numéro est le [[PHONE:06 98 76 54 32]]."),
    ("evaluator input", "Question: What is the refund window?\nAnswer given to [[PERSON:Ethan Walker]]: "
     "30 days from delivery.\nReference answer: 30 days."),
    ("markdown list of people", "## On-call rotation\n- Week 10: [[PERSON:Noah Fischer]]\n"
     "- Week 11: [[PERSON:Amara Diallo]]\n- Week 12: [[PERSON:Santiago Torres]]"),
    ("narrative names", "Yesterday [[PERSON:Tomasz Kowalczyk]] presented the roadmap; according to "
     "[[PERSON:Nnamdi Azikiwe]], the launch slips to June. [[PERSON:Lakshmi]] and [[PERSON:Arjun]] agreed."),
    ("names not in lists with cues", "Dear Mr. [[PERSON:Thornbury]],\nplease find the quote attached.\n\n"
     "Regards,\n[[PERSON:Tarquin]]"),
    ("long unknown surname", "Hi, my name is [[PERSON:Zbigniew Brzęczyszczykiewicz]] and I lost my badge."),
    ("all caps", "PATIENT: [[PERSON:JOHN DOE]]\nDOB: 1962-11-30\nMRN: 00412877"),
    ("hyphenated and apostrophes", "Cast: [[PERSON:Jean-Luc Picard]], [[PERSON:D'Angelo Russell]] and "
     "[[PERSON:Mary-Kate Olsen]]."),
    ("lowercase chat", "this is [[PERSON:maria]] again, my name is [[PERSON:ahmed khan]] on the other account"),
    ("short signoff", "Can we move the sync to 3pm?\n\nThanks,\n[[PERSON:Ben]]"),
    ("possessive report", "[[PERSON:Kenji Watanabe]]'s report is due; [[PERSON:Fiona]]'s draft is attached."),
    ("vietnamese and thai", "Team: [[PERSON:Nguyen Van An]], [[PERSON:Tran Thi Mai]] and [[PERSON:Somchai Srisuk]]."),
    ("arabic names", "Invoice approved by [[PERSON:Mohammed Al-Rashid]]; copy to [[PERSON:Layla Haddad]]."),
    ("indian names", "Assigned reviewers: [[PERSON:Venkatesh Subramanian]], [[PERSON:Ananya Chatterjee]], "
     "[[PERSON:Gurpreet Singh]]."),
    ("african names", "The scholarship goes to [[PERSON:Wanjiru Kamau]] and [[PERSON:Kwame Mensah]]."),
    ("korean and chinese", "Speakers: [[PERSON:Kim Minjun]] (Seoul) and [[PERSON:Zhang Wei]] (Shenzhen)."),
    ("phone table", "| name | phone |\n|---|---|\n| [[PERSON:Ravi Patel]] | [[PHONE:+91-22-2778-1234]] |\n"
     "| [[PERSON:Emma Schmidt]] | [[PHONE:+49 (0)30 901820]] |\n| [[PERSON:Liam Murphy]] | [[PHONE:+353 1 555 0199]] |"),
    ("contact card json", '{"contact": {"email": "[[EMAIL:m.rossi@example.it]]", "mobile": "[[PHONE:+39 347 123 4567]]", '
     '"iban": "[[IBAN:IT92Z1163726516761222029729]]", "vat": "IT01234567890"}}'),
    ("support escalation", "Escalating for [[PERSON:Olivia Brown]] ([[EMAIL:olivia.brown@example.net]], "
     "[[PHONE:(212) 555-0187]]). Last login from [[IP:185.199.108.153]] on 2024-03-11."),
    ("payment failure log", "stripe.error.CardError: card [[CARD:4661318609139090]] declined for "
     "[[EMAIL:buyer42@example.com]] (charge ch_3OqXyZ, amount 129.00 USD)"),
    ("ssn list", "Dependents: [[SSN:401-23-5567]], [[SSN:612-44-0921]], [[SSN:287-65-4432]]."),
    ("secrets in yaml", f"openai:\n  api_key: [[SECRET:{OPENAI_KEY}]]\nslack:\n  bot_token: "
     f"[[SECRET:{SLACK_TOKEN}]]\naws:\n  access_key_id: [[SECRET:{AWS_ACCESS_KEY_ID}]]"),
    ("token in url query", "GET /v1/export?format=csv&access_token=[[SECRET:ya29.a0AfH6SMBx7Kq2Lm9Pz4Rt8Vw1]]&page=2"),
    ("github in ci log", f"remote: Invalid username or password for [[SECRET:{GITHUB_TOKEN}]]\nfatal: Authentication failed"),
    ("mastercard and discover", "Saved cards: Mastercard [[CARD:5548-2199-3518-1903]], Discover [[CARD:6571 0497 4650 7527]]."),
    ("amex 15", "Charge it to [[CARD:371186252760184]] please."),
    ("ipv4 many", "Blocked: [[IP:45.33.32.156]], [[IP:91.198.174.192]], [[IP:151.101.1.69]]; allowed: [[IP:52.95.110.1]]"),
    ("travel booking", "Booking ref QX7P2L for [[PERSON:Isabella Conti]] and [[PERSON:Marco Conti]], "
     "flight AZ 608 Rome to New York on 2024-07-14 at 10:35. Contact [[EMAIL:isa.conti@example.it]]."),
    ("news style", "In a statement on Tuesday, [[PERSON:Catherine Dupont]], chief executive of the Paris-based "
     "firm, said revenue rose 8% to 2.4 billion euros. Analysts at Berenberg expect further growth."),
    ("interview transcript", "Interviewer: Thanks for joining us, [[PERSON:Sipho]].\n[[PERSON:Sipho Ndlovu]]: "
     "Happy to be here. I started the company in Durban in 2016."),
    ("slack export", "[09:14] <[[PERSON:megan.oconnor]]> deploy is green\n[09:15] <[[PERSON:raj.patel]]> "
     "thanks [[PERSON:Megan]], closing INC-4411"),
    ("resume", "Curriculum Vitae\n[[PERSON:Aleksandra Nowak]]\nWarsaw, Poland · [[PHONE:+48 601 234 567]] · "
     "[[EMAIL:a.nowak@example.pl]]\nExperience: Senior Data Engineer at Allegro (2019-2024)"),
    ("customer review", "Great service from [[PERSON:Luis]] at the Madrid store, he sorted out my refund in "
     "ten minutes. 5 stars. - [[PERSON:Carmen Ortega]]"),
    ("legal clause", "This Agreement is made between ACME Holdings Ltd and [[PERSON:Jonathan Reeves]] "
     "(the Contractor), residing at 14 Elm Road, Leeds."),
    ("gdpr request", "Subject access request from [[PERSON:Freya Lindholm]], DOB 12/04/1990, "
     "email [[EMAIL:freya.lindholm@example.se]], phone [[PHONE:+46 70 123 45 67]]."),
    ("sql result", "id | name | email\n17 | [[PERSON:Hamza Qureshi]] | [[EMAIL:hamza.q@example.pk]]\n"
     "18 | [[PERSON:Chloe Martin]] | [[EMAIL:chloe.martin@example.fr]]"),
    ("voice assistant", "Call [[PERSON:Grandma Rose]]? No, call [[PERSON:Rosa Delgado]] on [[PHONE:+52 55 1234 5678]]."),
    ("ambiguous names paired", "[[PERSON:Will Turner]] and [[PERSON:April Ludgate]] met [[PERSON:Jack Sparrow]] "
     "in May."),
))

NEGATIVES: tuple[Negative, ...] = tuple(Negative(name=name, text=text) for name, text in (
    ("prices", "The plan costs $1,299.99 per year (or €129.90 monthly). Enterprise starts at USD 12,500.00; "
     "a 15% discount applies above 250 seats. Shipping: £4.95."),
    ("dates", "Deadlines: 2024-03-15, 15/03/2024, 03/15/2024, 2024.03.15, 15.03.2024 and March 15, 2024. "
     "The Q3 review is on 2024-09-30 at 14:00 CET."),
    ("timestamps", "created_at=2024-03-15T10:30:00.123Z updated_at=2024-03-15 10:31:07 epoch=1710498600 "
     "epoch_ms=1710498600123 duration=00:04:12.5"),
    ("versions", "Upgraded from v2.14.3 to 2.15.0-rc.1; Python 3.11.7, numpy==1.26.4, build 10.0.19045.3693 "
     "on macOS 14.4.1. Firmware version 1.2.3.4."),
    ("order numbers", "Orders ORD-2024-004417, #100234 and INV-000123456 shipped; tracking 1Z999AA10123456784 "
     "and SHP-88213. Ticket 4821345 was closed."),
    ("counts", "We processed 12,345,678 tokens across 1 000 000 requests (98.7% cache hits) for 4,300 users "
     "in 12 countries. Median latency 142 ms, p99 1.8 s."),
    ("invalid luhn cards", "Test numbers that must not validate: 4526 0181 5908 3013, 5196030824628193, "
     "3432-319487-57495, 6011 9555 9797 1142."),
    ("invalid iban checksums", "Rejected: DE42 6245 9571 1777 7412 15, GB08XIPW28038528084148, "
     "NL24TPVL2882001826, FR63 5253 8885 3933 6338 7500 474."),
    ("git shas", "Reverted e83c5163316f89bfbde7d9ab23ca2e25604af290 and cherry-picked 4b825dc; see "
     "commit 9fceb02d0ae598e95dc970b74767f19372d61af8."),
    ("uuids", "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 "
     "request 550e8400-e29b-41d4-a716-446655440000 session 123e4567-e89b-12d3-a456-426614174000"),
    ("hex digests", "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, "
     "md5 d41d8cd98f00b204e9800998ecf8427e"),
    ("isbn and codes", "ISBN 978-3-16-148410-0, EAN 4006381333931, HS code 8471.30.01, SKU 100-2000-3"),
    ("coordinates and math", "The office is at 48.8566, 2.3522. pi = 3.14159265358979; e = 2.718281828; "
     "ratio 1:3:9; matrix 3x3."),
    ("loopback and ports", "Listening on 127.0.0.1:8080 and 0.0.0.0:9090; ::1 is also bound. "
     "Use localhost:5432 for PostgreSQL."),
    ("token accounting", '{"model": "gpt-4o", "max_tokens": 1024, "prompt_tokens": 812, '
     '"completion_tokens": 233, "total_tokens": 1045, "token_count": 1045, "temperature": 0.2}'),
    ("key metadata", '{"api_key_env": "OPENAI_API_KEY", "token_url": "https://auth.example.com/token", '
     '"secret_name": "prod/db", "auth_method": "oauth2", "password_policy": "strong"}'),
    ("placeholders already", "password=<REDACTED> token: *** api_key=${OPENAI_API_KEY} secret: null"),
    ("sentence starts", "Please summarise the report. Make it short. Will the numbers change? May we "
     "publish it in April? Grant access only to admins. Mark the ticket as done."),
    ("places", "Offices in Paris, Sydney, Austin, Victoria and San Jose; our data center is near Santa "
     "Clara. The team met at George Street and Victoria Station."),
    ("products", "Compare Claude, Gemini, Llama and Mistral on the benchmark. Jasper and Devin are agent "
     "products; Julia and Ruby are languages."),
    ("headings", "## Executive Summary\n### Revenue Growth\n### Customer Retention\nNext Steps: Review "
     "Pricing Strategy"),
    ("code", "def get_user(user_id: int) -> User:\n    return db.session.query(User).get(user_id)\n"
     "# TODO: handle None\nstd::vector<int> v; ns::Type t;"),
    ("markdown table of numbers", "| year | revenue | growth |\n|---|---|---|\n| 2022 | 1,204,000 | 12% |\n"
     "| 2023 | 1,498,500 | 24% |\n| 2024 | 1,733,210 | 16% |"),
    ("phone-like but not", "Error code 0x80070005; build 20240315.4; ticket range 100-199; "
     "ratio 16:9; score 7.5/10; room 3-204."),
    ("french numbers", "Le budget est de 1 250 000 € pour 2024, soit 12,5 % de plus qu'en 2023."),
    ("mac address and hashes", "Device 00:1A:2B:3C:4D:5E joined; fingerprint SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"),
    ("emails that are not", "Use the @mention feature; decorators like @app.route('/'); npm scope "
     "@types/node; retina image logo@2x.png."),
    ("bearer prose", "The bearer of this letter is authorised to collect the parcel. Bearer bonds are "
     "not accepted."),
    ("tech article", "Kubernetes schedules Pods onto Nodes. The Deployment controller watches ReplicaSets; "
     "when a Node fails, Kubernetes reschedules the Pods elsewhere. Helm Charts package these manifests."),
    ("earnings summary", "Apple reported record iPhone sales while Microsoft Azure grew 29%. Amazon Web Services "
     "remained the market leader; Google Cloud narrowed the gap in Europe and Asia."),
    ("calendar", "Team Offsite - Thursday 14 March, 09:00-17:00, Room Everest (Building B). Agenda: Roadmap, "
     "Hiring Plan, Budget Review. Lunch at Noon."),
    ("release notes", "What's New in Version 3.2: Dark Mode, Faster Search, Improved Export to PDF and CSV. "
     "Fixed: Crash on Launch (Android 14), Sync Issues with Outlook Calendar."),
    ("geography quiz", "Which river flows through Cairo? The Nile. Which city hosted the 2012 Olympics? London. "
     "Mount Everest lies between Nepal and China."),
    ("recipe", "Preheat the oven to 180 C. Mix 250 g flour, 2 eggs and 100 ml milk. Bake for 25-30 minutes. "
     "Serves 4. Tip: Greek yoghurt works too."),
    ("capitalised common words", "Thanks for the update. Regards to the whole Team. Best practices apply. "
     "Cheers to the Engineering group."),
))


def all_planted(kind: str | None = None) -> list[tuple[Sample, Planted]]:
    """Every planted value (of ``kind``, when given) with the sample it is in."""
    return [(s, p) for s in SAMPLES for p in s.planted if kind is None or p.kind == kind]
