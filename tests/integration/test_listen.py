"""``placet serve``'s listening socket: bound first, with a clear line when it cannot be."""

from __future__ import annotations

import socket

import pytest

from placet.errors import ListenError, WorldError
from placet.web.listen import address_of, listening_socket, url_of


def test_port_zero_takes_a_free_port_and_holds_it() -> None:
    with listening_socket("127.0.0.1", 0) as held:
        host, port = address_of(held)
        assert host == "127.0.0.1" and port > 0
        with pytest.raises(ListenError, match=rf"127\.0\.0\.1:{port}: the port is in use"):
            listening_socket("127.0.0.1", port)


def test_a_busy_port_is_a_world_error_naming_the_way_out() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(WorldError, match="choose another port with --port"):
            listening_socket("127.0.0.1", port)


def test_a_host_that_is_not_this_machines_is_named() -> None:
    with pytest.raises(ListenError, match=r"cannot listen on 192\.0\.2\.1:0: .*--host"):
        listening_socket("192.0.2.1", 0)  # TEST-NET-1: never an address of this machine


def test_urls_put_an_ipv6_host_in_brackets() -> None:
    assert url_of("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert url_of("::1", 8000) == "http://[::1]:8000/"
