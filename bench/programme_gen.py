"""A seeded, FOSDEM-sized programme in Kumpul's import format, for benchmarks that need a big conference.

``generate(seed, sessions)`` returns a document ``kumpul import`` accepts (the shape of
server/demo/arat2024.json): 4 days, 40 rooms, 1,000 sessions and 900 speakers by default, with titles,
abstracts, descriptions and biographies of realistic lengths, so the JSON is about 2.3 MB. The same seed
gives the same bytes, so runs compare. Each room is filled day by day from 09:00 with talks of 25 or 50
minutes, some lightning talks and a few two-hour workshops; about one session in ten has a translation.

    python bench/programme_gen.py --seed 1 -o /tmp/fosdem.json
    python -m bench.programme_gen --sessions 2000 -o /tmp/big.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DAYS = 4
ROOMS = 40
SPEAKERS = 900
TIME_ZONE = "Europe/Brussels"
FIRST_DAY = date(2027, 2, 4)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_NOUNS = _words(
    "kernel compiler database scheduler runtime package filesystem browser toolchain protocol network driver "
    "container cluster bootloader debugger allocator interpreter library framework firmware sensor router "
    "distribution mirror archive workflow pipeline dashboard editor terminal shell desktop compositor codec "
    "stream parser linker emulator hypervisor microcontroller keyboard printer satellite radio map translation "
    "community foundation licence contributor maintainer release roadmap governance mentorship documentation "
    "accessibility localisation security vulnerability signature sandbox permission identity federation "
    "benchmark profiler trace metric dataset model notebook queue cache index query migration replica backup"
)
_ADJECTIVES = _words(
    "open free portable reproducible secure distributed embedded lightweight modern legacy experimental "
    "decentralised federated minimal scalable resilient accessible sustainable fast small tiny verified "
    "incremental concurrent declarative functional immutable offline collaborative public private"
)
_VERBS = _words(
    "building shipping maintaining porting debugging scaling testing packaging securing measuring "
    "rewriting teaching funding governing documenting translating automating replacing profiling"
)
_WORDS = _words(
    "the a of to and in for with on from by about how why what we our your this that these their it is are "
    "was were be been has have had will can could should would may might must not only also more most less "
    "than then when where which while after before during over under between across through into onto "
    "people users developers teams projects years months weeks talk session workshop devroom hall audience "
    "questions answers lessons mistakes results numbers patches commits reviews issues bugs features tests "
    "upstream downstream hardware software code data time work way part place case point problem example "
    "first last next new old good better best simple hard real small large common shared different same "
    "show explain describe present discuss compare share look learn use make keep find give take start stop"
)
_FIRST_NAMES = _words(
    "Alex Amira Ana Andrea Anouk Arjun Ayşe Bao Bram Camille Carlos Chiara Chen Daan Dmitri Elena Emeka "
    "Eva Farah Fatima Femke Florian Giulia Hana Hugo Ines Ivan Jae Jana Jonas Julia Kai Kaito Karim Katarzyna "
    "Lars Laura Léa Leila Lina Lucas Maja Malik Marta Mateo Mei Milan Nadia Nils Noor Oksana Olivier Pablo "
    "Pedro Priya Rafael Ravi Rosa Sami Sara Sofia Stefan Tariq Thomas Tomás Vera Wei Yara Yusuf Zainab Zoë"
)
_LAST_NAMES = _words(
    "Adeyemi Andersen Bakker Banerjee Becker Costa Dubois Dvořák Eriksson Fernandes Fischer García Hansen "
    "Haddad Ivanova Janssens Jovanović Kaya Kim Kowalski Larsen Laurent Lee Lindqvist Maes Martin Moreau "
    "Müller Nakamura Nguyen Novák Okafor Olsen Peeters Petrov Popescu Rossi Santos Schmidt Silva Singh "
    "Smit Sørensen Tanaka Van den Berg Vermeulen Wagner Wang Weber Wouters Yilmaz Zhang"
)
_ORGANISATIONS = (
    "Independent",
    "The Linux Foundation",
    "Debian",
    "Mozilla",
    "KDE e.V.",
    "GNOME Foundation",
    "Red Hat",
    "SUSE",
    "Canonical",
    "Collabora",
    "Igalia",
    "The Document Foundation",
    "OpenStreetMap Foundation",
    "Free Software Foundation Europe",
    "Software Freedom Conservancy",
    "Eclipse Foundation",
    "Apache Software Foundation",
    "Python Software Foundation",
    "Rust Foundation",
    "Nextcloud",
    "University of Ghent",
    "KU Leuven",
    "TU Delft",
    "CERN",
)
_COUNTRIES = _words(
    "Belgium Netherlands Germany France Spain Portugal Italy Poland Czechia Sweden Norway Denmark Finland "
    "Ireland Austria Switzerland Romania Greece Turkey India Japan Brazil Canada Nigeria Kenya"
)
_ROLES = ("Maintainer", "Core developer", "Engineer", "Researcher", "Community manager", "Student", "Founder")
_FORMATS = (
    ("talk", "Talk"),
    ("lightning", "Lightning talk"),
    ("keynote", "Keynote"),
    ("workshop", "Workshop"),
    ("bof", "Birds of a feather"),
)
_TRACK_TOPICS = (
    "Kernel",
    "Containers",
    "Databases",
    "Embedded",
    "Go",
    "Rust",
    "Python",
    "JavaScript",
    "Mozilla",
    "Open Hardware",
    "Open Media",
    "Geospatial",
    "Legal and Policy",
    "Community",
    "Security",
    "Decentralised Internet",
    "Distributions",
    "HPC and Big Data",
    "Testing and Automation",
    "Web Performance",
    "Accessibility",
    "Translations",
    "Radio",
    "Retrocomputing",
    "Monitoring",
    "Package Management",
    "Graphics",
    "Virtualisation",
    "Mobile",
    "Energy",
)
_BUILDINGS = ("H", "K", "U", "AW", "UA", "UB", "J")


def _title_case(words: Sequence[str]) -> str:
    return " ".join(word[:1].upper() + word[1:] if i == 0 else word for i, word in enumerate(words))


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words: list[str] = []
    for _ in range(rng.randint(low, high)):
        pick = rng.random()
        if pick < 0.65:
            words.append(rng.choice(_WORDS))
        elif pick < 0.85:
            words.append(rng.choice(_NOUNS))
        elif pick < 0.93:
            words.append(rng.choice(_ADJECTIVES))
        else:
            words.append(rng.choice(_VERBS))
    return _title_case(words) + "."


def _paragraph(rng: random.Random, characters: int) -> str:
    """Sentences until about ``characters`` long."""
    sentences: list[str] = []
    length = 0
    while length < characters:
        sentence = _sentence(rng, 8, 22)
        sentences.append(sentence)
        length += len(sentence) + 1
    return " ".join(sentences)


def _text(rng: random.Random, characters: int) -> str:
    """One to three paragraphs, about ``characters`` long in all."""
    paragraphs = rng.randint(1, 3)
    return "\n\n".join(_paragraph(rng, characters // paragraphs) for _ in range(paragraphs))


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _moment(day: date, minutes: int, zone: ZoneInfo) -> str:
    local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=minutes)
    return local.isoformat()


def generate(seed: int = 1, sessions: int = 1000, *, first_day: date = FIRST_DAY) -> dict[str, Any]:
    """A programme document in Kumpul's import format: 4 days, 40 rooms, ``sessions`` sessions, 900 speakers.

    The same ``seed`` and arguments give the same document. ``first_day`` is the event's first date (in
    Europe/Brussels); benchmarks that need "today" can pass it, or move the result with server.demo.shift_to.
    """
    rng = random.Random(seed)
    zone = ZoneInfo(TIME_ZONE)
    days = [first_day + timedelta(days=n) for n in range(DAYS)]
    event = {
        "name": "Free and Open Source Developers' Meeting (generated)",
        "acronym": "FOSDEM-GEN",
        "timeZone": TIME_ZONE,
        "startDate": days[0].isoformat(),
        "endDate": days[-1].isoformat(),
        "venueName": "Université libre de Bruxelles, Campus du Solbosch",
        "venueAddress": "Avenue Franklin Roosevelt 50, 1050 Bruxelles, Belgium",
        "language": "en",
        "languages": ["en", "fr", "nl"],
        "description": _text(rng, 900),
        "url": "https://fosdem-gen.example/",
        "translations": {"fr": {"name": "Rencontre des développeurs de logiciels libres (générée)"}},
    }
    rooms = []
    for n in range(ROOMS):
        building = _BUILDINGS[n % len(_BUILDINGS)]
        rooms.append(
            {
                "id": f"room-{n + 1:02d}",
                "name": f"{building}.{1000 + n * 7}",
                "floor": f"Building {building}, level {n % 3}",
                "capacity": rng.choice((50, 80, 120, 200, 350, 800)),
                "accessibility": _paragraph(rng, 120),
                "streamUrl": f"https://live.fosdem-gen.example/{building.lower()}{1000 + n * 7}",
                "position": n,
            }
        )
    tracks = [
        {
            "id": f"track-{n + 1:02d}",
            "name": f"{topic} devroom",
            "colour": f"#{rng.randrange(0x202020, 0xC0C0C0):06x}",
            "description": _paragraph(rng, 250),
            "position": n,
        }
        for n, topic in enumerate(_TRACK_TOPICS)
    ]
    formats = [{"id": ident, "name": name, "position": n} for n, (ident, name) in enumerate(_FORMATS)]
    speakers = []
    for n in range(SPEAKERS):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        speaker: dict[str, Any] = {
            "id": f"spk-{n + 1:04d}",
            "name": f"{first} {last}",
            "anonymous": False,
            "pronouns": rng.choice(("", "", "she/her", "he/him", "they/them")),
            "bio": _text(rng, rng.randint(150, 550)),
            "organisation": rng.choice(_ORGANISATIONS),
            "role": rng.choice(_ROLES),
            "country": rng.choice(_COUNTRIES),
            "photoUrl": f"https://fosdem-gen.example/speakers/{n + 1:04d}.jpg" if rng.random() < 0.6 else None,
            "links": [{"title": "Website", "url": f"https://{last.lower().replace(' ', '')}{n}.example/"}]
            if rng.random() < 0.5
            else [],
        }
        speakers.append(speaker)

    # Spread the sessions over the (day, room) slots round-robin, then lay each room's day out from 09:00.
    slots: list[list[int]] = [[] for _ in range(DAYS * ROOMS)]
    for n in range(sessions):
        slots[n % len(slots)].append(n)
    speaker_order = list(range(SPEAKERS))
    rng.shuffle(speaker_order)
    next_speaker = 0
    generated: list[dict[str, Any]] = [{} for _ in range(sessions)]
    for slot, numbers in enumerate(slots):
        day = days[slot // ROOMS]
        room = rooms[slot % ROOMS]
        track = tracks[slot % ROOMS % len(tracks)]
        minute = 9 * 60
        for n in numbers:
            pick = rng.random()
            if pick < 0.12:
                fmt, length = "lightning", 15
            elif pick < 0.16:
                fmt, length = "workshop", 120
            elif pick < 0.19:
                fmt, length = "bof", 60
            elif pick < 0.21:
                fmt, length = "keynote", 50
            else:
                fmt, length = "talk", rng.choice((25, 25, 50))
            count = 0 if fmt == "bof" else rng.choices((1, 2, 3), (80, 15, 5))[0]
            speaker_ids = []
            for _ in range(count):
                speaker_ids.append(f"spk-{speaker_order[next_speaker % SPEAKERS] + 1:04d}")
                next_speaker += 1
            title_words = [rng.choice(_VERBS), rng.choice(_ADJECTIVES), rng.choice(_NOUNS)]
            title_words += [rng.choice(("with", "for", "in", "on")), rng.choice(_NOUNS)]
            if rng.random() < 0.5:
                title_words += [rng.choice(("at", "without", "beyond")), rng.choice(_ADJECTIVES), rng.choice(_NOUNS)]
            session: dict[str, Any] = {
                "id": f"s-{n + 1:05d}",
                "guid": _guid(rng),
                "title": _title_case(title_words),
                "subtitle": _sentence(rng, 4, 9) if rng.random() < 0.3 else "",
                "start": _moment(day, minute, zone),
                "end": _moment(day, minute + length, zone),
                "roomId": room["id"],
                "trackId": track["id"],
                "format": fmt,
                "abstract": _paragraph(rng, rng.randint(180, 500)),
                "description": _text(rng, rng.randint(200, 1000)),
                "languages": ["en"],
                "speakerIds": list(dict.fromkeys(speaker_ids)),
                "streamUrl": room["streamUrl"],
                "interpretation": {},
                "recording": rng.choices(("public", "no-recording"), (9, 1))[0],
                "capacity": room["capacity"],
                "tags": rng.sample(_NOUNS, rng.randint(1, 4)),
                "status": "cancelled" if rng.random() < 0.01 else "scheduled",
                "links": [{"title": "Slides", "url": f"https://fosdem-gen.example/slides/{n + 1:05d}.pdf"}]
                if rng.random() < 0.4
                else [],
            }
            if rng.random() < 0.1:
                session["translations"] = {
                    "fr": {"title": _title_case(title_words[::-1]), "abstract": _paragraph(rng, 250)}
                }
            generated[n] = session
            minute += length + rng.choice((5, 5, 10))
    return {
        "event": event,
        "rooms": rooms,
        "tracks": tracks,
        "formats": formats,
        "speakers": speakers,
        "sessions": generated,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=1, help="the random seed (default 1); same seed, same bytes")
    parser.add_argument("--sessions", type=int, default=1000, help="how many sessions (default 1000)")
    parser.add_argument("--first-day", type=date.fromisoformat, default=FIRST_DAY, help="the event's first date")
    parser.add_argument("-o", "--output", type=Path, help="write the JSON here (default: standard output)")
    args = parser.parse_args(argv)
    data = generate(args.seed, args.sessions, first_day=args.first_day)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
