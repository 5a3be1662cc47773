"""The input guard's judgement of raw bytes, without an app."""

import io

import pytest

from feedback.wellformed import REFUSED, InputGuard, Malformed, check_multipart, check_urlencoded

B = "bnd"


def part(name: bytes, value: bytes, filename: bytes | None = None) -> bytes:
    disposition = b'form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    return b"--bnd\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + b"\r\n"


@pytest.mark.parametrize("raw", [
    b"a=1&b=%C3%B8", b"a=%E2%80%AE", b"a=\xc3\xb8", b"", b"a", b"a=&=b", b"x=%%%",
])
def test_clean_urlencoded_passes(raw):
    check_urlencoded(raw)


@pytest.mark.parametrize("raw", [
    b"a=%00", b"a%00=1", b"a=%FF", b"a=\xff", b"a=%C3", b"a=%ED%A0%80",  # a lone surrogate
])
def test_nul_and_invalid_utf8_in_urlencoded_are_refused(raw):
    with pytest.raises(Malformed):
        check_urlencoded(raw)


def test_multipart_text_fields_names_and_file_names_are_judged():
    good = part(b"a", "Søs".encode()) + part(b"f", b"\x00\xff binary", b"x.csv") + b"--bnd--\r\n"
    check_multipart(good, B)  # file contents are bytes: not judged here
    for bad in (part(b"a", b"x\x00y"), part(b"a", b"\xff"), part(b"a\xff", b"x"),
                part(b"f", b"", b"\xff.csv")):
        with pytest.raises(Malformed):
            check_multipart(bad + b"--bnd--\r\n", B)
    with pytest.raises(Malformed):
        check_multipart(b"--bnd\r\nno headers end", B)


def _environ(**kw):
    body = kw.pop("body", b"")
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), **kw}


def _through(environ, limit=1000):
    seen = {}

    def app(env, start_response):
        seen.update(env)
        seen["body"] = env["wsgi.input"].read()
        return []

    InputGuard(app, lambda: limit)(environ, None)
    return seen


def test_the_guard_passes_clean_requests_on_with_their_body_intact():
    seen = _through(_environ(body=b"a=%C3%B8"))
    assert REFUSED not in seen and seen["body"] == b"a=%C3%B8"


def test_the_guard_marks_and_empties_a_malformed_request():
    seen = _through(_environ(body=b"a=%00", QUERY_STRING="q=1"))
    assert seen[REFUSED] and seen["body"] == b"" and seen["QUERY_STRING"] == ""
    seen = _through(_environ(PATH_INFO="/cases/\xff"))
    assert seen[REFUSED] and seen["PATH_INFO"] == "/"


def test_the_guard_leaves_bodies_over_the_limit_to_flask():
    body = b"a=%00" + b"x" * 2000
    seen = _through(_environ(body=body), limit=1000)
    assert REFUSED not in seen and seen["CONTENT_LENGTH"] == str(len(body))
