"""The queue page's words (English, Chinese), merged into the catalogue by callqa.web.i18n."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # The status filter (scorecards.people.views_types.QUEUE_STATUSES) and what a row shows of it.
    "queue.status": ("Show", "显示"),
    "queue.status_todo": ("to review", "待复核"),
    "queue.status_done": ("review done", "已复核完毕"),
    "queue.status_all": ("all", "全部"),
    "queue.done": ("✓ review done", "✓ 已复核完毕"),
    "queue.empty_done": ("No call with its review done for these filters.", "当前筛选条件下没有已复核完毕的通话。"),
    "queue.empty_all": ("No call for these filters.", "当前筛选条件下没有通话。"),
    # A reason, score or band as a reviewer left it, the engine's beside it.
    "queue.reviewed": ("✓ reviewed", "✓ 已复核"),
    "queue.cleared": ("no longer counts: a reviewer overturned it", "已被复核改判，不再计入"),
    "queue.automatic_score": ("automatic score", "自动评分"),
    "queue.automatic_band": ("automatic band", "自动评级"),
}
