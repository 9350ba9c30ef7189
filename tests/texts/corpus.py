"""Small texts the text tests share: a Chinese manual and an English article, written for the
tests, and copies of their passages made the ways infringers make them."""

from __future__ import annotations

MANUAL_ZH = """小米6使用说明书

欢迎使用小米6手机。本手机搭载高通骁龙835处理器，配备6GB运行内存和64GB存储空间，5.15英寸全高清屏幕，支持双摄像头变焦拍摄。首次使用前，请将手机充满电，充电时请使用原装充电器和数据线，以免损坏电池。

开机与关机：长按电源键三秒即可开机，开机后按照屏幕提示完成语言、网络和账号设置。关机时长按电源键，在弹出的菜单中选择关机。

指纹解锁：进入设置，选择锁屏、密码和指纹，按照提示录入指纹。录入时请多次调整手指位置，使指纹信息更完整，解锁更快速准确。

拍照技巧：在光线充足的环境下拍摄效果最佳；夜间拍摄时请保持手机稳定，可开启夜景模式，系统会自动合成多张照片，降低噪点并提亮暗部细节。

安全须知：请勿在高温、潮湿或有腐蚀性气体的环境中使用手机；请勿自行拆卸手机或更换电池；乘坐飞机时请开启飞行模式。全国包邮，七天无理由退换。
"""

ARTICLE_EN = """Caring for a leather handbag

A good leather bag can last for decades if it is looked after with a little patience. Keep it
away from direct sunlight and radiators, which dry the hide and fade the colour. When the bag
is not in use, stuff it loosely with acid-free tissue paper so that it keeps its shape, and
store it in the cotton dust bag it came with rather than in plastic, which traps moisture.

Clean the surface every few weeks with a soft, dry cloth. For marks, use a cleaner made for
the kind of leather your bag is made of, and always test it first on a hidden spot such as the
underside of a strap. Condition smooth leather twice a year with a neutral cream, working it in
with small circles and letting it rest overnight before wiping off the excess.

If the bag gets caught in the rain, blot it gently with a towel and let it dry naturally at
room temperature. Never use a hair dryer. Free shipping. 30-day returns.
"""


def passage(text: str, start: str, end: str) -> str:
    """The part of `text` from the words `start` up to (not including) the words `end`."""
    return text[text.index(start) : text.index(end)]


# 135 characters of the manual: how to switch on and how to unlock with a fingerprint.
COPIED_ZH = passage(MANUAL_ZH, "开机与关机", "拍照技巧")
COPIED_EN = passage(ARTICLE_EN, "Clean the surface", "If the bag gets")
