"""The team page's words (English, Chinese), merged into the catalogue by callqa.web.i18n."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "team.checklist": ("Checklist", "检查表"),
    "team.checklist_calls": ("{title} ({n} calls)", "{title}（{n} 通）"),
    "team.checklist_calls#one": ("{title} ({n} call)", "{title}（{n} 通）"),
    "team.window": ("Calls from {since} to {until}", "{since} 至 {until} 的通话"),
    "team.until_hint": ("empty: today", "留空即今天"),
    "team.no_calls": ("No calls in this window — the last call was on {day}.",
                      "此时间段内没有通话——最近一通在 {day}。"),
    "team.show_last": ("Show {days} days up to {day}", "显示 {days} 天（截至 {day}）"),
    "team.no_agents": ("The calls in this window name no agent.", "此时间段内的通话都没有坐席信息。"),
    "team.never": ("No scored calls to show yet.", "还没有可显示的已评分通话。"),
    "team.trend_title": ("Weekly pass rate: all items and the items that moved most",
                         "每周通过率：全部项及变化最大的项"),
    "team.trend_note": ("The items whose pass rate changed most between the first and the last week of this window.",
                        "所列的是本时间段第一周到最后一周通过率变化最大的项。"),
    "team.moved": ("{title}: {first} → {last}", "{title}：{first} → {last}"),
    "team.no_trend": ("No item's pass rate changed over these weeks.", "这几周内各项的通过率都没有变化。"),
}
