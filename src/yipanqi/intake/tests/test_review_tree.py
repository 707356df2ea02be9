"""Adding and reordering items of the reviewed measure tree: the pure edits (``review.add_node``, ``move_node``,
``suggest_number``) and the same through the review page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from yipanqi.intake import review
from yipanqi.intake.models import IntakeDocument
from yipanqi.intake.review import ReviewError
from yipanqi.intake.tests.test_pages import courts, document  # noqa: F401  (shared fixtures)

HTMX = {"HTTP_HX_REQUEST": "true"}


def _node(number, title, children=(), lead=None):
    return {
        "number": number,
        "title": title,
        "text": "",
        "lead": lead,
        "co_owners": [],
        "due_on": None,
        "span": None,
        "children": list(children),
    }


@pytest.fixture
def tree():
    return {
        "measures": {
            "agreement": "a1",
            "nodes": [
                _node("一", "执行协作", [_node("一、1", "财产查控"), _node("一、2", "委托执行")]),
                _node(
                    "二", "信息共享", [_node("二、1", "数据平台", lead={"text": "四川省高级人民法院", "agency_id": 1})]
                ),
            ],
        }
    }


def _titles(reviewed):
    return [(path, node["number"], node["title"]) for path, node in review.walk_paths(reviewed)]


def test_move_swaps_with_the_neighbour_and_says_where_the_item_went(tree):
    moved, path = review.move_node(tree, "0.1", up=True)
    assert path == "0.0"
    assert [n["title"] for n in moved["measures"]["nodes"][0]["children"]] == ["委托执行", "财产查控"]
    moved, path = review.move_node(moved, "0", up=False)
    assert path == "1"
    assert [n["number"] for n in moved["measures"]["nodes"]] == ["二", "一"]
    assert tree["measures"]["nodes"][0]["number"] == "一"  # the input is not changed


@pytest.mark.parametrize("path, up", [("0", True), ("1", False), ("0.0", True), ("0.1", False)])
def test_move_past_the_ends_is_refused(tree, path, up):
    with pytest.raises(ReviewError):
        review.move_node(tree, path, up=up)


def test_suggested_numbers_follow_the_numbering_and_stay_unique(tree):
    assert review.suggest_number(tree, "0.0", as_child=False) == "一、2-2"  # 一、2 is taken
    assert review.suggest_number(tree, "0.1", as_child=False) == "一、3"
    assert review.suggest_number(tree, "0", as_child=True) == "一.3"
    assert review.suggest_number(tree, "1", as_child=False) == "二-2"
    assert review.suggest_number(tree, "", as_child=False) == "3"


def test_add_after_under_and_at_the_top(tree):
    added, path = review.add_node(tree, "0.1", number="一、3", title="联合惩戒", as_child=False)
    assert path == "0.2"
    added, path = review.add_node(added, "0.2", number="一、3.1", title="失信名单共享", as_child=True)
    assert path == "0.2.0"
    added, path = review.add_node(added, "", number="三", title="队伍建设", as_child=False)
    assert path == "2"
    assert ("0.2.0", "一、3.1", "失信名单共享") in _titles(added)
    assert _titles(added)[-1] == ("2", "三", "队伍建设")
    new = review.node_at(added, "0.2")
    assert new["span"] is None and new["lead"] is None and new["children"][0]["title"] == "失信名单共享"


@pytest.mark.parametrize(
    "path, number, title, as_child, message",
    [
        ("0", "一、1", "重复编号", False, "Number %(number)s is used in the tree already."),
        ("0", "三", " ", False, "A new item needs a title."),
        ("1.0", "二、1.1", "子项", True, "This item has owners: only items of the lowest level have them."),
        ("7", "七", "不存在", False, "“%(path)s” is not an item of the measure tree."),
    ],
)
def test_add_refusals(tree, path, number, title, as_child, message):
    with pytest.raises(ReviewError) as refused:
        review.add_node(tree, path, number=number, title=title, as_child=as_child)
    assert refused.value.message == _(message) % {"number": number, "path": path}


# --------------------------------------------------------------------------- through the page


def _edit(client, document, op, data, htmx=True):  # noqa: F811
    return client.post(reverse("intake:edit", args=[document.pk, op]), data, **(HTMX if htmx else {}))


def _nodes(document):  # noqa: F811
    return IntakeDocument.objects.get(pk=document.pk).reviewed["measures"]["nodes"]


@pytest.mark.django_db
def test_move_and_add_through_the_page(web, owner, document):  # noqa: F811
    client = web(owner)
    first, second = (n["title"] for n in _nodes(document)[0]["children"])
    response = _edit(client, document, "move", {"path": "0.1", "direction": "up"})
    assert response.status_code == 200 and 'class="btn btn-sm btn-ghost-secondary node-up"' in response.content.decode()
    assert [n["title"] for n in _nodes(document)[0]["children"]] == [second, first]

    forms = client.get(reverse("intake:node-forms", args=[document.pk]) + "?path=0.1").content.decode()
    assert 'class="row g-2 mt-1 node-add-form"' in forms
    number = review.suggest_number(IntakeDocument.objects.get(pk=document.pk).reviewed, "0.1", as_child=False)
    assert f'value="{number}"' in forms

    _edit(client, document, "add", {"path": "0.1", "number": number, "title": "联合惩戒失信被执行人", "where": "after"})
    children = _nodes(document)[0]["children"]
    assert [n["title"] for n in children][-1] == "联合惩戒失信被执行人" and children[-1]["number"] == number


@pytest.mark.django_db
@pytest.mark.parametrize(
    "op, data",
    [
        ("move", {"path": "0", "direction": "up"}),
        ("move", {"path": "0", "direction": "sideways"}),
        ("add", {"path": "0", "number": "x", "title": "", "where": "after"}),
        ("add", {"path": "0..1", "number": "x", "title": "项", "where": "after"}),
    ],
)
def test_refused_tree_edits_change_nothing(web, owner, document, op, data):  # noqa: F811
    before = _nodes(document)
    response = _edit(web(owner), document, op, data, htmx=False)
    assert response.status_code == 400
    assert _nodes(document) == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["partner", "outsider"])
def test_other_agencies_cannot_add_or_move(request, web, document, who):  # noqa: F811
    before = _nodes(document)
    for op, data in (("move", {"path": "0", "direction": "down"}), ("add", {"path": "0", "title": "x"})):
        assert _edit(web(request.getfixturevalue(who)), document, op, data).status_code == 404
    assert _nodes(document) == before
