"""app.history: the undo history's order, its redo side and its limit, without a window."""
from app.history import LIMIT, History, Step


def test_undo_and_redo_run_newest_first_and_each_pushes_its_reverse():
    values, log = [], []
    history = History(changed=lambda: log.append((history.undo_what, history.redo_what)))

    def add(v: int) -> None:  # the app's way: a change pushes the step that takes it back
        values.append(v)
        history.push(Step(f"add {v}", lambda: remove(v)))

    def remove(v: int) -> None:
        values.remove(v)
        history.push(Step(f"add {v}", lambda: add(v)))

    add(1)
    add(2)
    assert history.undo_what == "add 2" and history.redo_what == ""
    assert history.undo() and values == [1] and history.redo_what == "add 2"
    assert history.undo() and values == [] and not history.undo() and history.undo_what == ""
    assert history.redo() and values == [1] and history.redo_what == "add 2"
    assert history.redo() and values == [1, 2] and not history.redo()
    history.undo()
    add(3)  # a new change of the user's own: nothing left to redo
    assert values == [1, 3] and history.redo_what == "" and history.undo_what == "add 3"
    assert log[-1] == ("add 3", "")


def test_a_step_that_finds_nothing_to_do_leaves_nothing_to_redo_and_the_oldest_steps_go():
    history = History()
    history.push(Step("gone", lambda: None))  # (everything it would undo changed since)
    assert history.undo() and history.redo_what == "" and history.undo_what == ""
    for k in range(LIMIT + 5):
        history.push(Step(str(k), lambda: None))
    undone = 0
    while history.undo():
        undone += 1
    assert undone == LIMIT


def test_a_failing_step_is_gone_and_the_history_still_works():
    history = History()
    history.push(Step("fine", lambda: None))
    history.push(Step("broken", lambda: 1 / 0))
    try:
        history.undo()
    except ZeroDivisionError:
        pass
    assert history.undo_what == "fine" and history.undo()
