"""stop_all/close_all release every attachment's fds, in threads when there are many."""
from __future__ import annotations

import os

import pytest

from btc.runtime.attach import Attachment, close_all, stop_all


def _attachments(n: int) -> tuple[list[Attachment], list[int]]:
    atts, fds = [], []
    for i in range(n):
        r, w = os.pipe()
        atts.append(Attachment("test", str(i), [r, w], [w]))  # `w` stands for the link
        fds += [r, w]
    return atts, fds


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


@pytest.mark.parametrize("n", [1, 4, 5, 100])
def test_close_all_closes_every_fd(n):
    atts, fds = _attachments(n)
    close_all(atts)
    assert all(_closed(fd) for fd in fds)
    assert all(a.fds == [] and a.links == [] for a in atts)


@pytest.mark.parametrize("n", [2, 50])
def test_stop_all_closes_links_and_keeps_the_rest(n):
    atts, fds = _attachments(n)
    stop_all(atts)
    links, others = fds[1::2], fds[0::2]
    assert all(_closed(fd) for fd in links)
    assert not any(_closed(fd) for fd in others)
    close_all(atts)
    assert all(_closed(fd) for fd in others)
