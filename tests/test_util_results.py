from buildbot.util.results import (
    CANCELLED, EXCEPTION, FAILURE, RETRY, SKIPPED, SUCCESS, WARNINGS,
    computeResultAndTermination, statusToString, worst_status,
)


def test_worst_status_follows_severity_order() -> None:
    order = [SKIPPED, SUCCESS, WARNINGS, FAILURE, EXCEPTION, RETRY, CANCELLED]
    for i, a in enumerate(order):
        for b in order[i:]:
            assert worst_status(a, b) == b
            assert worst_status(b, a) == b


def test_worst_status_ignores_none_and_unknown() -> None:
    assert worst_status(None, FAILURE) == FAILURE
    assert worst_status(SUCCESS, None) == SUCCESS
    assert worst_status(None, None) is None
    assert worst_status(99, 98) is None


def test_status_names() -> None:
    assert [statusToString(i) for i in range(7)] == [
        "success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"]
    assert statusToString(None) == "not finished"
    assert statusToString(42) == "Invalid status"


class _Flags:
    flunkOnFailure = False
    warnOnFailure = True
    haltOnFailure = True


def test_failure_without_flunk_becomes_warnings_and_halts() -> None:
    assert computeResultAndTermination(_Flags(), FAILURE, SUCCESS) == (WARNINGS, True)
