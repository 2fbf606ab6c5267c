"""Word lists for a fictional province. Place names are invented; people's names use Faker's zh_CN lists."""

from __future__ import annotations

from faker.providers.company.zh_CN import Provider as _Company
from faker.providers.person.zh_CN import Provider as _Person
from faker.providers.phone_number.zh_CN import Provider as _Phone

CITY_NAME = "江州市"
CITY_CODE_PREFIX = "33"  # first digits of account numbers and ID numbers in this fictional city

# (name, is_district, stations): districts are mostly urban, counties mostly rural; 40 stations in all.
COUNTIES: list[tuple[str, bool, int]] = [
    ("鹤城区", True, 5),
    ("江北区", True, 5),
    ("青川县", False, 7),
    ("临溪县", False, 7),
    ("云岭县", False, 8),
    ("石门县", False, 8),
]
URBAN_STATION_NAMES = ["城关", "城东", "城西", "城南", "城北", "新城", "开发区", "滨江"]
TOWN_FIRST = list("青白石柳桃杨梅竹松枫龙凤金银马牛鹿安和兴福永长平")
TOWN_SECOND = ["溪", "坪", "桥", "岭", "湾", "口", "塘", "坝", "铺", "岗", "集", "店", "山", "河"]
VILLAGE_FIRST = list("东西南北上下前后大小新老中高李王张刘陈杨黄赵吴周徐孙胡朱郭何罗梁宋郑谢韩唐冯")
VILLAGE_SECOND = [
    "家湾",
    "家庄",
    "家坪",
    "家岭",
    "家寨",
    "家冲",
    "庄",
    "坪",
    "湾",
    "岗",
    "桥",
    "铺",
    "堡",
    "园",
]
COMMUNITY_NAMES = list("锦绣和平幸福阳光花园光明文化长江滨河翠湖新华人民振兴丰收育才迎宾")
STREETS = [
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "新华街",
    "文化路",
    "滨江路",
    "胜利街",
    "和平路",
    "东风路",
    "青年路",
    "工业路",
    "环城路",
    "站前路",
    "学府路",
    "健康路",
    "商业街",
    "公园路",
]
SHOPS = [
    "超市",
    "便利店",
    "饭店",
    "农家乐",
    "理发店",
    "五金店",
    "加工厂",
    "养殖场",
    "诊所",
    "药店",
    "幼儿园",
    "修理厂",
    "茶楼",
    "粮油店",
    "服装店",
]
IMPORTANT_SITES = ["人民医院", "中医院", "自来水厂", "污水处理厂", "第一中学", "燃气公司", "广播电视台"]

SURNAMES: list[str] = list(_Person.last_names.keys())
SURNAME_WEIGHTS: list[float] = list(_Person.last_names.values())
GIVEN_CHARS: list[str] = sorted(
    {c for c in _Person.first_names if len(c) == 1} | set("秀英华玉兰桂芳梅红霞丽萍燕娟敏静婷雪琴云莲")
)
MOBILE_PREFIXES: list[str] = [str(p) for p in _Phone.phonenumber_prefixes]
COMPANY_PREFIXES: list[str] = list(_Company.company_prefixes)
COMPANY_SUFFIXES: list[str] = ["有限公司", "科技有限公司", "实业有限公司", "商贸有限公司", "食品有限公司"]
