"""R17.2: the column layouts of the bank batch payment file. Banks differ in
the columns of their salary batch (代发工资) import, their order, their header
names, whether amounts are in yuan or in fen, and where the count and total
go; each park chooses one of these named layouts (``ParkPaymentSettings``),
``standard`` unless it chose another.

A layout only arranges the same figures: one row per payslip with net pay
above 0, its net pay, and the count and total of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

# The fields a layout can place; ``seq`` is the row's number from 1.
FIELDS = ("seq", "holder", "account", "bank", "amount", "remark")


@dataclass(frozen=True)
class BankLayout:
    code: str
    label: str
    # (header, field) in file order.
    columns: tuple[tuple[str, str], ...]
    # "yuan": a Decimal with 2 places; "fen": a whole number of fen.
    amounts: str = "yuan"
    # "footer": a total row after the data; "header": a count and total row
    # before the column headers.
    summary: str = "footer"

    @property
    def headers(self) -> list[str]:
        return [header for header, _field in self.columns]

    def amount(self, value: Decimal):
        if self.amounts == "fen":
            return int((value * 100).to_integral_value())
        return value

    def row(self, **values) -> list:
        return [
            self.amount(values[f]) if f == "amount" else values[f]
            for _header, f in self.columns
        ]

    def summary_rows(self, count: int, total: Decimal) -> list[list]:
        if self.summary == "header":
            return [["总笔数", count, "总金额", self.amount(total)]]
        row = ["" for _c in self.columns]
        fields = [f for _h, f in self.columns]
        row[0] = "合计"
        if len(row) > 1:
            row[1] = f"{count} 笔"
        row[fields.index("amount")] = self.amount(total)
        return [row]


STANDARD = BankLayout(
    code="standard",
    label=_("Standard: number, holder, account, bank, amount (yuan), remark"),
    columns=(
        ("序号", "seq"),
        ("账户名", "holder"),
        ("账号", "account"),
        ("开户银行", "bank"),
        ("金额", "amount"),
        ("备注", "remark"),
    ),
)
ACCOUNT_FIRST = BankLayout(
    code="account_first",
    label=_(
        "Account first: account, holder, amount (yuan), bank, purpose; "
        "count and total above the headers"
    ),
    columns=(
        ("账号", "account"),
        ("户名", "holder"),
        ("金额", "amount"),
        ("开户行", "bank"),
        ("用途", "remark"),
    ),
    summary="header",
)
IN_FEN = BankLayout(
    code="fen",
    label=_("Amounts in fen: payee account, payee name, amount (fen), note"),
    columns=(
        ("收款人账号", "account"),
        ("收款人户名", "holder"),
        ("金额(分)", "amount"),
        ("附言", "remark"),
    ),
    amounts="fen",
)
LAYOUTS = {layout.code: layout for layout in (STANDARD, ACCOUNT_FIRST, IN_FEN)}
DEFAULT_LAYOUT = STANDARD.code
LAYOUT_CHOICES = [(code, layout.label) for code, layout in LAYOUTS.items()]
