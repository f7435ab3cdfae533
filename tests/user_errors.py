"""The CLI's promise for bad input or a bad environment: exactly one ``error: ...`` line and exit status 2."""


def assert_one_error_line(result, *needles: str) -> str:
    """``result`` (a CliRunner result) failed that way and its line contains every needle; returns the line."""
    assert result.exit_code == 2, (result.exception, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
