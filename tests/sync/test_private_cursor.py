"""Private sync cursors: where a sync starts, and when the client must send everything it holds."""

from __future__ import annotations

import pytest

from sync import CursorError, private_since

EPOCH = "3f2a9c0d11ab"


def test_a_first_sync_starts_at_the_beginning_and_needs_nothing_resent() -> None:
    assert private_since(None, epoch=EPOCH, seq=7) == (0, False)


def test_a_cursor_of_this_database_continues_where_it_stopped() -> None:
    assert private_since(f"{EPOCH}.5", epoch=EPOCH, seq=7) == (5, False)
    assert private_since(f"{EPOCH}.7", epoch=EPOCH, seq=7) == (7, False)


def test_a_cursor_of_another_database_gets_everything_and_must_resend_everything() -> None:
    """After a restore the server may lack notes the device had synced, and the device notes written since."""
    assert private_since("000000000000.3", epoch=EPOCH, seq=7) == (0, True)
    assert private_since("000000000000.30", epoch=EPOCH, seq=7) == (0, True)


def test_a_cursor_ahead_of_the_server_must_resend_everything() -> None:
    assert private_since(f"{EPOCH}.8", epoch=EPOCH, seq=7) == (0, True)


def test_an_old_clients_integer_cursor_is_accepted() -> None:
    assert private_since("5", epoch=EPOCH, seq=7) == (5, False)
    assert private_since("9", epoch=EPOCH, seq=7) == (0, True)


@pytest.mark.parametrize("cursor", ["abc", "", "3f2a9c0d11ab.", "3f2a9c0d11ab.-1", "1" * 19, "3F2A9C0D11AB.1"])
def test_malformed_cursors(cursor: str) -> None:
    with pytest.raises(CursorError):
        private_since(cursor, epoch=EPOCH, seq=7)
