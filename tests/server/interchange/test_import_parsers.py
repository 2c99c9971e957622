"""Reading schedule files: real pretalx and frab exports, a frab XML summit, and files that must be refused."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from server.demo import demo_bytes
from server.errors import Invalid
from server.interchange import frab_xml
from server.interchange.detect import decode_json, detect, parse
from server.schemas.programme import ProgrammeImport, Session

DATA = Path(__file__).parent / "data"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def by_title(programme: ProgrammeImport, title: str) -> Session:
    return next(session for session in programme.sessions if session.title == title)


def names(programme: ProgrammeImport, session: Session) -> list[str]:
    speakers = {speaker.id: speaker.name for speaker in programme.speakers}
    return [speakers[sid] for sid in session.speaker_ids]


def room_name(programme: ProgrammeImport, session: Session) -> str:
    return next(room.name for room in programme.rooms if room.id == session.room_id)


def refused(data: bytes) -> Invalid:
    with pytest.raises(Invalid) as caught:
        parse(data)
    return caught.value


# -- the format is told from the content ----------------------------------------------------------


def test_detect_tells_the_three_formats_apart_by_content() -> None:
    assert detect(read("schedule.xml")) == "frab-xml"
    assert detect(read("pretalx-democon.json")) == "c3voc-json"
    assert detect(read("frab-camp2019.json")) == "c3voc-json"
    assert detect(demo_bytes()) == "kumpul-json"
    assert detect(b"\xef\xbb\xbf  \n" + read("schedule.xml")) == "frab-xml"


def test_detect_refuses_what_is_none_of_them() -> None:
    assert "empty" in refused(b"  \n").detail
    assert "neither XML" in refused(b"title,start\nOpening,09:00\n").detail
    assert "neither a C3VOC" in refused(b'{"sessions": []}').detail
    assert refused(b'{"event":\n {"name": "Caf\xe9"}}').detail.startswith(
        "line 2, column 15 (byte 24): the file is not UTF-8"
    )


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'{"event":\n {"name": "Caf\xe9"}}', "line 2, column 15 (byte 24)"),
        (b"\xff{}", "line 1, column 1 (byte 0)"),
        (b'{"ev\xc3":\n{}}', "line 1, column 5 (byte 4)"),
        (b'{"a": "\xe2\x82"}', "line 1, column 8 (byte 7)"),
        (b'{"a": "ok"}\n\n  "\xf0\x28\x8c\x28"', "line 3, column 4 (byte 16)"),
    ],
)
def test_decode_json_names_the_first_byte_that_is_not_utf8(data: bytes, where: str) -> None:
    with pytest.raises(Invalid) as caught:
        decode_json(data)
    assert caught.value.detail == f"{where}: the file is not UTF-8, as JSON must be"


def test_decode_json_still_names_the_position_of_a_syntax_error_in_utf8() -> None:
    with pytest.raises(Invalid) as caught:
        decode_json('{"name": "Café",\n "x": }'.encode())
    assert caught.value.detail.startswith("line 2, column 7 (byte 24): the file is not valid JSON")


# -- real exports -----------------------------------------------------------------------------------


def test_pretalx_democon_export() -> None:
    parsed = parse(read("pretalx-democon.json"))
    programme = parsed.programme
    assert parsed.format == "c3voc-json"
    assert programme.event.name == "DemoCon"
    assert programme.event.acronym == "democon"
    assert programme.event.time_zone == "UTC"
    assert (str(programme.event.start_date), str(programme.event.end_date)) == ("2020-12-14", "2020-12-16")
    assert len(programme.sessions) == 36
    assert [room.name for room in programme.rooms] == ["Gray Room", "Tan Room"]
    assert {fmt.name for fmt in programme.formats} == {"Talk", "Workshop"}
    assert {track.name for track in programme.tracks} == {"Phased", "Horizontal"}
    assert len(programme.speakers) == 27

    first = by_title(programme, "Focused 5thgeneration hardware")
    assert room_name(programme, first) == "Gray Room"
    assert first.start == datetime.fromisoformat("2020-12-14T09:00:00+01:00")
    assert first.end == datetime.fromisoformat("2020-12-14T09:30:00+01:00")
    assert first.guid == "8079583e-8321-506c-95af-fd2903a5f075"
    assert first.id == first.guid
    assert first.languages == ["en"]
    assert names(programme, first) == ["Brian Robinson"]
    brian = next(speaker for speaker in programme.speakers if speaker.name == "Brian Robinson")
    assert brian.id == "spk-nqtf8y", "pretalx speaker code"
    assert brian.bio.startswith("Break through direction.")

    not_recorded = by_title(programme, "Monitored 24hour customer loyalty")
    assert not_recorded.recording == "no-recording"
    assert room_name(programme, not_recorded) == "Tan Room"
    assert not_recorded.start == datetime.fromisoformat("2020-12-14T14:00:00+01:00")
    assert by_title(programme, "Down-sized directional algorithm").recording == "no-recording"
    assert sum(session.recording == "no-recording" for session in programme.sessions) == 2


def test_frab_camp_export() -> None:
    programme = parse(read("frab-camp2019.json")).programme
    assert programme.event.name == "Chaos Communication Camp 2019"
    assert programme.event.time_zone == "Europe/Berlin"
    assert (str(programme.event.start_date), str(programme.event.end_date)) == ("2019-08-21", "2019-08-25")
    assert len(programme.sessions) == 79
    assert [room.name for room in programme.rooms] == ["Curie", "Meitner"]
    assert len(programme.tracks) == 7
    assert {fmt.id for fmt in programme.formats} == {"lecture", "performance"}
    assert len(programme.speakers) == 90

    opening = by_title(programme, "Opening Ceremony")
    assert room_name(programme, opening) == "Curie"
    assert opening.start == datetime.fromisoformat("2019-08-21T11:00:00+02:00")
    assert opening.end == datetime.fromisoformat("2019-08-21T11:30:00+02:00")
    assert names(programme, opening) == ["jinxx", "smtw"], "persons keep their order"
    assert opening.speaker_ids == ["spk-7797", "spk-4827"], "frab persons have only a numeric id"
    assert next(t.name for t in programme.tracks if t.id == opening.track_id) == "CCC"
    german = [session for session in programme.sessions if session.languages == ["de"]]
    assert len(german) == 24
    assert programme.event.languages == ["de", "en"]
    assert all(session.recording == "public" for session in programme.sessions)


def test_the_same_source_gives_the_same_ids() -> None:
    assert parse(read("frab-camp2019.json")) == parse(read("frab-camp2019.json"))
    assert parse(read("schedule.xml")) == parse(read("schedule.xml"))


# -- a frab schedule.xml -----------------------------------------------------------------------------


def test_frab_xml_summit() -> None:
    parsed = parse(read("schedule.xml"))
    programme = parsed.programme
    assert parsed.format == "frab-xml"
    assert programme.event.name == "Southeast Asia Safe Migration Summit 2025"
    assert programme.event.acronym == "sasm2025"
    assert programme.event.time_zone == "Asia/Bangkok"
    assert str(programme.event.url) == "https://summit.example.org/2025/"
    assert (str(programme.event.start_date), str(programme.event.end_date)) == ("2025-03-11", "2025-03-13")
    assert len(programme.sessions) == 35
    assert [room.name for room in programme.rooms] == [
        "Main Hall",
        "Chao Phraya Room",
        "Mekong Room",
        "Workshop Studio",
    ]
    assert [(track.name, track.colour) for track in programme.tracks][:2] == [
        ("Safe Migration", "#1f6f8b"),
        ("Survivor Leadership", "#8b3a62"),
    ]
    assert programme.tracks[2].id == "track-law-policy", "the track's slug attribute"
    assert {fmt.name for fmt in programme.formats} == {"Plenary", "Panel", "Lecture", "Workshop", "Social"}

    panel = by_title(programme, "Recruitment fees: who pays, who profits")
    assert panel.subtitle == "A panel on the employer-pays principle"
    assert room_name(programme, panel) == "Main Hall"
    assert panel.start == datetime.fromisoformat("2025-03-11T10:30:00+07:00")
    assert panel.end == datetime.fromisoformat("2025-03-11T12:00:00+07:00")
    assert names(programme, panel) == ["Ravi Menon", "Maya Reyes", "Tanvir Hasan"]
    assert panel.format == "panel"
    assert panel.abstract.startswith("Recruiters, employers")

    shelters = by_title(programme, "Listening to survivors: lessons from the shelters")
    assert shelters.recording == "no-recording", "<recording><optout>true</optout>"
    assert sum(session.recording == "no-recording" for session in programme.sessions) == 4

    reception = by_title(programme, "Welcome reception")
    assert reception.track_id is None
    assert reception.speaker_ids == []
    assert reception.languages == []
    assert by_title(programme, "Thai labour law for migrant domestic workers").languages == ["th"]


# -- refused files name the line or the field ---------------------------------------------------------


def test_malformed_xml_names_the_line() -> None:
    error = refused(read("malformed-syntax.xml"))
    assert error.detail.startswith("line 20: the XML is not well-formed")
    assert "abstract line 18" in error.detail


def test_missing_element_names_the_line() -> None:
    error = refused(read("missing-duration.xml"))
    assert error.detail == "line 21, <event>, duration: an event needs a duration (HH:MM)"
    assert error.field == "/schedule/day/room/event[2]/duration"


def test_session_ending_when_it_starts_is_refused() -> None:
    error = refused(read("zero-duration.xml"))
    assert error.detail.startswith("line 17, <duration>: the event would end")
    assert "must end after it starts" in error.detail


def test_duplicate_guid_names_both_lines() -> None:
    error = refused(read("duplicate-guid.xml"))
    assert error.detail.startswith("line 21, <event>, guid:")
    assert "appears twice (first at line 11" in error.detail


def test_a_bad_value_in_xml_names_its_line() -> None:
    data = read("schedule.xml").replace(b"<duration>01:30</duration>", b"<duration>ninety</duration>", 1)
    error = refused(data)
    assert error.detail.startswith("line ")
    assert "<duration>: 'ninety' is not a duration" in error.detail
    line = int(error.detail.split(",")[0].removeprefix("line "))
    assert b"<duration>ninety</duration>" in data.splitlines()[line - 1]


def test_an_xml_title_too_long_names_its_line() -> None:
    data = read("schedule.xml").replace(b"<title>Welcome reception</title>", b"<title>" + b"x" * 301 + b"</title>")
    error = refused(data)
    assert "<title>: Expected `str` of length <= 300" in error.detail


@pytest.mark.parametrize("name", ["billion-laughs.xml", "external-entity.xml"])
def test_hostile_xml_is_refused_unexpanded(name: str) -> None:
    error = refused(read(name))
    assert error.detail.startswith("line 2: a schedule.xml must not declare a DOCTYPE")
    assert "root:" not in error.detail


def test_the_parser_itself_expands_no_entity() -> None:
    """Even past the DOCTYPE check, the parser neither expands entities nor reads files."""
    root = etree.fromstring(read("external-entity.xml"), frab_xml._parser())
    assert "root:" not in etree.tostring(root).decode()
    assert root.findtext("conference/title") == ""


def test_json_syntax_error_names_line_and_column() -> None:
    data = b'{"schedule": {\n  "version": "1",\n  "conference": {"title": "X",}\n}}'
    error = refused(data)
    assert error.detail.startswith("line 3, column ")
    assert "not valid JSON" in error.detail


def c3voc(mutate: Any) -> bytes:
    document = json.loads(read("pretalx-democon.json"))
    mutate(document["schedule"]["conference"])
    return json.dumps(document).encode()


def test_json_missing_field_names_its_path() -> None:
    def drop(conference: dict[str, Any]) -> None:
        del conference["days"][1]["rooms"]["Tan Room"][2]["duration"]

    error = refused(c3voc(drop))
    assert error.detail.startswith("schedule.conference.days[1].rooms.Tan Room[2].duration:")
    assert error.field == "schedule.conference.days[1].rooms.Tan Room[2].duration"


def test_json_bad_values_name_their_paths() -> None:
    def bad_date(conference: dict[str, Any]) -> None:
        conference["days"][0]["rooms"]["Gray Room"][1]["date"] = "tomorrow"

    assert refused(c3voc(bad_date)).detail.startswith("schedule.conference.days[0].rooms.Gray Room[1].date: 'tomorrow'")

    def ends_early(conference: dict[str, Any]) -> None:
        event = conference["days"][2]["rooms"]["Gray Room"][0]
        event["end"] = "2020-12-16T08:00:00+01:00"

    error = refused(c3voc(ends_early))
    assert error.detail.startswith("schedule.conference.days[2].rooms.Gray Room[0].end: the event would end")

    def nameless(conference: dict[str, Any]) -> None:
        conference["days"][0]["rooms"]["Gray Room"][0]["persons"][0] = {"code": "ABCDEF"}

    assert refused(c3voc(nameless)).field == "schedule.conference.days[0].rooms.Gray Room[0].persons[0].name"

    def no_title(conference: dict[str, Any]) -> None:
        conference["title"] = 42

    assert refused(c3voc(no_title)).detail == "schedule.conference.title: expected a string, got a number"

    def bad_zone(conference: dict[str, Any]) -> None:
        conference["time_zone_name"] = "Mars/Olympus"

    assert refused(c3voc(bad_zone)).field == "schedule.conference.time_zone_name"


def test_json_duplicate_guid_is_refused() -> None:
    def twice(conference: dict[str, Any]) -> None:
        rooms = conference["days"][0]["rooms"]
        rooms["Tan Room"][0]["guid"] = rooms["Gray Room"][0]["guid"]

    error = refused(c3voc(twice))
    assert error.detail.startswith("schedule.conference.days[0].rooms.Tan Room[0].guid: the guid")
    assert "first at schedule.conference.days[0].rooms.Gray Room[0]" in error.detail


def test_kumpul_json_errors_name_the_field() -> None:
    assert refused(b'{"event": {"name": 3}}').detail.startswith("event.name: Expected `str`, got `int`")


# -- older and looser files ----------------------------------------------------------------------------


def test_start_times_without_date_use_the_day_and_the_time_zone() -> None:
    """Old frab exports give only a day's date and HH:MM; after midnight belongs to the next morning."""
    document = {
        "schedule": {
            "version": "1",
            "conference": {
                "title": "Night Owls",
                "acronym": "owls",
                "time_zone_name": "Asia/Manila",
                "days": [
                    {
                        "index": 1,
                        "date": "2025-06-01",
                        "day_start": "2025-06-01T10:00:00+08:00",
                        "day_end": "2025-06-02T03:00:00+08:00",
                        "rooms": {
                            "Stage": [
                                {"guid": "5d6c1b52-0f8e-4c1a-9a53-0c2b7d9e1f01", "title": "Late set", "start": "23:30",
                                 "duration": "01:00", "type": "concert"},
                                {"guid": "5d6c1b52-0f8e-4c1a-9a53-0c2b7d9e1f02", "title": "After hours",
                                 "start": "01:00", "duration": "0:45", "type": "concert",
                                 "persons": [{"id": 7, "public_name": "DJ Tala",
                                              "avatar": "/media/tala.jpg"}]},
                            ]
                        },
                    }
                ],
            },
            "base_url": "https://owls.example/",
        }
    }  # fmt: skip
    programme = parse(json.dumps(document).encode()).programme
    late, after = programme.sessions
    assert late.start == datetime.fromisoformat("2025-06-01T23:30:00+08:00")
    assert after.start == datetime.fromisoformat("2025-06-02T01:00:00+08:00")
    assert after.end == datetime.fromisoformat("2025-06-02T01:45:00+08:00")
    assert programme.speakers[0].photo_url == "https://owls.example/media/tala.jpg"


def test_without_a_time_zone_name_the_offset_decides() -> None:
    data = read("schedule.xml").replace(b"<time_zone_name>Asia/Bangkok</time_zone_name>", b"")
    assert parse(data).programme.event.time_zone == "Etc/GMT-7"


def test_avatars_must_be_https() -> None:
    def avatars(conference: dict[str, Any]) -> None:
        persons = conference["days"][0]["rooms"]["Gray Room"][0]["persons"]
        persons[0]["avatar"] = "http://localhost/avatar.png"

    programme = parse(c3voc(avatars)).programme
    assert all(speaker.photo_url is None for speaker in programme.speakers)


def test_a_50_mb_text_is_refused_in_plain_words() -> None:
    data = read("schedule.xml").replace(b"<title>", b"<title>" + b"x" * (50 * 1024 * 1024), 1)
    with pytest.raises(Invalid) as refused:
        parse(data)
    message = str(refused.value)
    assert message.startswith("line 7, column ")
    assert message.endswith("one text in it is longer than 10 MB, and a schedule's texts are far shorter")
