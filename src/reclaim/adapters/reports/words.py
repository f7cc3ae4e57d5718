"""The report's words in English and Simplified Chinese, and Babel's formatting of its
numbers, money, shares and dates in the report's locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

_EN: dict[str, str] = {
    "title": "Recovery report",
    "period": "{start} – {end} ({zone}), end excluded",
    "generated": "Generated {at}",
    "summary": "Summary",
    "recovered_revenue": "Recovered revenue",
    "attributed": "Attributed to messages",
    "organic": "Organic (came back on their own)",
    "net": "Net after coupon discounts",
    "recovery_rate": "Recovery rate",
    "lift": "Lift over the holdout",
    "funnel": "Funnel",
    "funnel_note": "Facts created in the period; each stage's share of the stage before it.",
    "stage": "Stage",
    "count": "Count",
    "conversion": "Conversion",
    "recovery": "Recovery by case kind",
    "recovery_note": "Cases opened in the period; shaded: the 15–25 % that mature sellers win back.",
    "kind": "Kind",
    "opened": "Opened",
    "recovered": "Recovered",
    "rate": "Rate",
    "refunded": "Refunded since",
    "revenue": "Revenue",
    "all": "All kinds",
    "money": "Revenue and costs",
    "total": "Total recovered",
    "refunded_money": "Refunded (not counted)",
    "messages_sent": "Messages sent",
    "per_message": "Attributed revenue per message",
    "coupons_redeemed": "Coupons redeemed",
    "coupon_cost": "Coupon discounts",
    "coupons_unknown": "Redeemed coupons without a known discount",
    "conversions": "Other currencies",
    "converted_at": "converted at {rate}",
    "no_rate": "no rate set: not in the totals",
    "timing": "Time to recovery",
    "median": "Median",
    "p90": "90th percentile",
    "lift_title": "Lift: messaged minus held-out recovery rate",
    "lift_note": "95 % intervals (Newcombe); revenue per case with a bootstrap interval.",
    "messaged": "Messaged",
    "holdout": "Held out",
    "interval": "95 % interval",
    "per_case": "Revenue per case",
    "not_enough": "Not enough data yet: about {n} cases per arm give ± 5 points.",
    "no_holdout": "No held-out cases: set a holdout in the flow to measure lift.",
    "reasons": "Why customers stopped",
    "reasons_note": "Reasons inferred from the facts, as a share of the cases opened.",
    "answers": "The customers' own answers",
    "answers_note": "{n} cases answered; share of those that answered.",
    "none": "None yet.",
    "reason": "Reason",
    "cases": "Cases",
    "share": "Share",
    "by": "By {by}",
    "unknown": "unknown",
    "points": "{value} pts",
    "method": "How each figure is computed: docs/reports.md.",
    "abandoned_checkout": "Abandoned checkouts",
    "pending_order": "Pending orders",
    "failed_payment": "Failed payments",
    "cart": "Carts",
    "checkout": "Checkouts with contact",
    "order": "Orders",
    "paid": "Paid",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "extra_costs": "Extra costs (shipping, fees)",
    "delivery_too_slow": "Delivery too slow",
    "stock_unclear": "Stock unclear",
    "price_changed": "Price changed",
    "payment_declined": "Payment declined",
    "payment_methods": "Payment methods",
    "coupon_rejected": "Coupon rejected",
    "account_required": "Account required",
    "checkout_complicated": "Checkout too complicated",
    "trust": "Did not trust the site",
    "just_browsing": "Just browsing",
    "other": "Other",
    "country": "country",
    "device": "device",
    "variant": "variant",
    "flow": "flow",
    "channel": "channel",
    "step": "step",
    "key": "Value",
    "experiments": "Experiments",
    "experiments_note": (
        "Each variant against the first (the control): the difference in recovery rate with "
        "its confidence sequence and always-valid p-value, both safe to read every day."
    ),
    "whole_flows": "whole flows",
    "step_of": "step {step}",
    "running_since": "running since {at}",
    "stopped_on": "{since} – {at}, stopped",
    "vs_control": "Against the control",
    "sequence": "Confidence sequence",
    "p_always": "p (always valid)",
    "control": "control",
    "changes": "Runs",
    "variant_head": "Variant",
    "split": "Split between variants: p = {p}",
    "verdict_keep running": "Keep running",
    "verdict_winner": "{winner} wins",
    "verdict_no difference": "No difference worth having",
    "verdict_sample ratio mismatch": "Sample ratio mismatch: the split is broken",
    "funnel_by": "Funnel by {by}",
    "mail_subject": "Reclaim · {store}: recovery report, {period}",
    "mail_title": "Recovery report of {store}, {period} ({zone})",
    "of_cases": "{k} of {n} cases",
    "interval_is": "95 % interval {low} … {high}",
    "mail_attached": "The whole report is below, and attached as a PDF.",
}

_ZH: dict[str, str] = {
    "title": "挽回报告",
    "period": "{start} – {end}（{zone}），不含结束日",
    "generated": "生成于 {at}",
    "summary": "概览",
    "recovered_revenue": "挽回收入",
    "attributed": "归因于消息",
    "organic": "自然回流",
    "net": "扣除优惠券折扣后净额",
    "recovery_rate": "挽回率",
    "lift": "相对对照组的提升",
    "funnel": "转化漏斗",
    "funnel_note": "本期创建的记录；每一阶段占上一阶段的比例。",
    "stage": "阶段",
    "count": "数量",
    "conversion": "转化率",
    "recovery": "各类案例的挽回",
    "recovery_note": "本期开启的案例；阴影为成熟卖家可挽回的 15–25%。",
    "kind": "类型",
    "opened": "开启",
    "recovered": "已挽回",
    "rate": "挽回率",
    "refunded": "其后退款",
    "revenue": "收入",
    "all": "全部类型",
    "money": "收入与成本",
    "total": "挽回总额",
    "refunded_money": "已退款（不计入）",
    "messages_sent": "已发送消息",
    "per_message": "每条消息的归因收入",
    "coupons_redeemed": "已使用优惠券",
    "coupon_cost": "优惠券折扣",
    "coupons_unknown": "折扣金额未知的已用优惠券",
    "conversions": "其他币种",
    "converted_at": "按 {rate} 换算",
    "no_rate": "未设置汇率：不计入总额",
    "timing": "挽回所需时间",
    "median": "中位数",
    "p90": "第 90 百分位",
    "lift_title": "提升：发送消息组减去对照组的挽回率",
    "lift_note": "95% 置信区间（Newcombe 法）；每案收入差采用自助法区间。",
    "messaged": "发送消息组",
    "holdout": "对照组",
    "interval": "95% 区间",
    "per_case": "每案收入",
    "not_enough": "数据尚不足：每组约需 {n} 个案例才能达到 ±5 个百分点。",
    "no_holdout": "没有对照组案例：请在流程中设置对照比例以衡量提升。",
    "reasons": "顾客为何放弃",
    "reasons_note": "根据数据推断的原因，占本期开启案例的比例。",
    "answers": "顾客自己的回答",
    "answers_note": "{n} 个案例作答；占作答案例的比例。",
    "none": "暂无。",
    "reason": "原因",
    "cases": "案例",
    "share": "占比",
    "by": "按{by}",
    "unknown": "未知",
    "points": "{value} 个百分点",
    "method": "各项数字的计算方法见 docs/reports.md。",
    "abandoned_checkout": "弃单（未完成结账）",
    "pending_order": "挂单（待付款订单）",
    "failed_payment": "支付失败",
    "cart": "购物车",
    "checkout": "留有联系方式的结账",
    "order": "订单",
    "paid": "已付款",
    "shipped": "已发货",
    "delivered": "已送达",
    "extra_costs": "额外费用（运费、手续费）",
    "delivery_too_slow": "配送太慢",
    "stock_unclear": "库存不明",
    "price_changed": "价格变动",
    "payment_declined": "支付被拒",
    "payment_methods": "支付方式",
    "coupon_rejected": "优惠券无效",
    "account_required": "需要注册账户",
    "checkout_complicated": "结账流程太复杂",
    "trust": "不信任网站",
    "just_browsing": "只是看看",
    "other": "其他",
    "country": "国家/地区",
    "device": "设备",
    "variant": "实验版本",
    "flow": "流程",
    "channel": "渠道",
    "step": "步骤",
    "key": "取值",
    "experiments": "实验",
    "experiments_note": "每个版本与第一个版本（对照）比较：挽回率之差及其置信序列和随时有效的 p 值，每天查看也不会误导。",
    "whole_flows": "整个流程",
    "step_of": "步骤 {step}",
    "running_since": "自 {at} 起运行",
    "stopped_on": "{since} – {at}，已停止",
    "vs_control": "与对照相比",
    "sequence": "置信序列",
    "p_always": "p 值（随时有效）",
    "control": "对照",
    "changes": "运行内容",
    "variant_head": "版本",
    "split": "版本间分流：p = {p}",
    "verdict_keep running": "继续运行",
    "verdict_winner": "{winner} 胜出",
    "verdict_no difference": "无值得采用的差异",
    "verdict_sample ratio mismatch": "样本比例失衡：分流异常",
    "funnel_by": "按{by}的转化漏斗",
    "mail_subject": "Reclaim · {store}：挽回报告（{period}）",
    "mail_title": "{store} 的挽回报告，{period}（{zone}）",
    "of_cases": "{n} 个案例中 {k} 个",
    "interval_is": "95% 区间 {low} … {high}",
    "mail_attached": "完整报告见下文，并附 PDF 文件。",
}

WORDS = {"en": _EN, "zh-CN": _ZH}


@dataclass(frozen=True, slots=True)
class Speaker:
    """Words and formatting for one report locale (``en`` or ``zh-CN``)."""

    locale: str
    currency: str

    @property
    def babel(self) -> Locale:
        return Locale.parse(self.locale, sep="-")

    @property
    def lang(self) -> str:
        return "zh-Hans" if self.locale == "zh-CN" else "en"

    def __call__(self, key: str, **values: object) -> str:
        words = WORDS.get(self.locale, _EN)
        text = words.get(key) or _EN.get(key) or key
        return text.format(**values) if values else text

    def money(self, value: Decimal | None, currency: str | None = None) -> str:
        if value is None:
            return "–"
        return format_currency(value, currency or self.currency, locale=self.babel)

    def number(self, value: float | int | Decimal | None) -> str:
        return "–" if value is None else format_decimal(value, locale=self.babel)

    def share(self, value: float | None) -> str:
        if value is None:
            return "–"
        return format_percent(value, format="#,##0.0%", locale=self.babel)

    def points(self, value: float | None) -> str:
        if value is None:
            return "–"
        shown = format_decimal(round(value * 100, 1), format="+#,##0.0;-#,##0.0", locale=self.babel)
        return self("points", value=shown)

    def day(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.babel)

    def span(self, start: date, end: date) -> str:
        """The days ``[start, end)`` in short: "November 2026" for a whole month, else the
        first and last day ("Nov 2 – 8, 2026")."""
        if start.day == 1 and end == (start + timedelta(days=32)).replace(day=1):
            return format_skeleton("yMMMM", start, locale=self.babel)
        return format_interval(start, end - timedelta(days=1), "yMMMd", locale=self.babel)

    def instant(self, value: datetime, zone: str) -> str:
        return format_datetime(value, format="medium", tzinfo=ZoneInfo(zone), locale=self.babel)

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return "–"
        hours = seconds / 3600
        if hours < 48:
            unit = "h" if self.locale == "en" else " 小时"
            return f"{format_decimal(round(hours, 1), locale=self.babel)}{unit}"
        unit = " days" if self.locale == "en" else " 天"
        return f"{format_decimal(round(hours / 24, 1), locale=self.babel)}{unit}"
