"""nlp.regions: 省/市/县 from jionlp's gazetteer (resolve, find in text, containment, levels)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlp import regions
from nlp.regions import contains, find_regions, region_levels, resolve_region

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def corpus_text(prefix: str) -> str:
    files = sorted(CORPUS.glob(f"{prefix}_*.txt"))
    assert files, f"corpus file {prefix}_*.txt missing"
    return files[0].read_text(encoding="utf-8")


# ------------------------------------------------------------------ resolve_region

@pytest.mark.parametrize("name, full", [
    ("庄河", "辽宁省大连市庄河市"),
    ("庄河市", "辽宁省大连市庄河市"),
    ("陈巴尔虎旗", "内蒙古自治区呼伦贝尔市陈巴尔虎旗"),
    ("营口", "辽宁省营口市"),
    ("营口市", "辽宁省营口市"),
    ("辽宁省营口市鲅鱼圈区", "辽宁省营口市鲅鱼圈区"),
    ("无锡", "江苏省无锡市"),
    ("江阴", "江苏省无锡市江阴市"),
    ("惠山区", "江苏省无锡市惠山区"),
    ("淮南市", "安徽省淮南市"),
    ("江苏", "江苏省"),
    ("北京市", "北京市"),
    ("北京", "北京市"),
    ("北京市朝阳区", "北京市朝阳区"),
    ("全国", "全国"),
    ("国家", "全国"),
    # a parent given with the name
    ("大连市庄河市", "辽宁省大连市庄河市"),
    ("呼伦贝尔陈巴尔虎旗", "内蒙古自治区呼伦贝尔市陈巴尔虎旗"),
    ("辽宁 大连 庄河", "辽宁省大连市庄河市"),
    # autonomous regions, ethnic names and gazetteer aliases
    ("内蒙古", "内蒙古自治区"),
    ("广西", "广西壮族自治区"),
    ("陈旗", "内蒙古自治区呼伦贝尔市陈巴尔虎旗"),
    ("上海市浦东新区", "上海市浦东新区"),
    ("香港", "香港特别行政区"),
    # a county directly under its province has no city level
    ("济源", "河南省济源市"),
    # an abolished name resolves to its successor
    ("襄樊市", "湖北省襄阳市"),
])
def test_resolve_region_examples(name, full):
    assert resolve_region(name) == full


def test_resolve_municipality_is_not_doubled():
    assert resolve_region("上海") == "上海市"
    assert "北京市北京市" not in (resolve_region("北京市朝阳区") or "")


def test_ambiguous_county_name_takes_lowest_admin_code():
    # 朝阳区 exists in 北京市 (110105) and in 吉林省长春市 (220104): documented choice is the lower code
    assert resolve_region("朝阳区") == "北京市朝阳区"
    # ... and a parent picks the other one
    assert resolve_region("长春市朝阳区") == "吉林省长春市朝阳区"
    assert resolve_region("吉林省长春市朝阳区") == "吉林省长春市朝阳区"


def test_ambiguous_name_prefers_higher_level():
    assert resolve_region("吉林") == "吉林省"            # not 吉林市
    assert resolve_region("吉林市") == "吉林省吉林市"
    assert resolve_region("朝阳") == "辽宁省朝阳市"        # a city before the 朝阳区/朝阳县 counties


@pytest.mark.parametrize("text", [
    "化工企业", "", "   ", "应急管理局", "庄河市人民政府",      # not (only) a place
    "北京上海",                                               # two places, not one
    "公安", "和平", "城区",                                   # common words / generic names need a parent
    "化" * 500,
])
def test_resolve_region_none(text):
    assert resolve_region(text) is None


def test_stoplisted_name_resolves_with_parent_or_suffix():
    assert resolve_region("公安县") == "湖北省荆州市公安县"
    assert resolve_region("天津和平") == "天津市和平区"
    assert resolve_region("西安市新城区") == "陕西省西安市新城区"


# ------------------------------------------------------------------ find_regions

@pytest.mark.parametrize("text, expected", [
    ("江苏省无锡市江阴市的企业", ["江苏省无锡市江阴市"]),
    ("我们是无锡的一家危化品企业", ["江苏省无锡市"]),
    ("我们是营口市的一家企业", ["辽宁省营口市"]),
    ("陈巴尔虎旗应急管理局", ["内蒙古自治区呼伦贝尔市陈巴尔虎旗"]),
    ("营口市发展和改革委员会办公室", ["辽宁省营口市"]),
    ("庄河市人民政府", ["辽宁省大连市庄河市"]),
    ("淮南市安全生产委员会办公室", ["安徽省淮南市"]),
    ("我在营口鲅鱼圈开了个加油站", ["辽宁省营口市鲅鱼圈区"]),
    ("大连庄河的企业能享受什么激励", ["辽宁省大连市庄河市"]),
    ("辽宁省 大连市 庄河市", ["辽宁省大连市庄河市"]),
    ("北京市朝阳区应急管理局", ["北京市朝阳区"]),
    ("沈阳市和平区", ["辽宁省沈阳市和平区"]),
    ("江阴道路运输企业", ["江苏省无锡市江阴市"]),
    ("庄河南部的一家企业", ["辽宁省大连市庄河市"]),
])
def test_find_regions_examples(text, expected):
    assert find_regions(text) == expected


def test_find_regions_order_and_dedup():
    text = "淮南市和无锡市的企业，以及淮南市的另一家"
    assert find_regions(text) == ["安徽省淮南市", "江苏省无锡市"]


def test_find_regions_separate_mentions_are_not_merged_across_lines():
    assert find_regions("营口海关\n\n鲅鱼圈海关") == ["辽宁省营口市", "辽宁省营口市鲅鱼圈区"]


def test_find_regions_uses_context_for_ambiguous_names():
    assert find_regions("长春市的企业和朝阳区的企业") == ["吉林省长春市", "吉林省长春市朝阳区"]
    assert find_regions("北京市朝阳区和长春市朝阳区") == ["北京市朝阳区", "吉林省长春市朝阳区"]


@pytest.mark.parametrize("text", [
    "推动经济社会高质量发展，加强安全生产",
    "公安、保险、中心、市场、新区、城市、和平、通报",
    "城市中心的市场监督管理部门",
    "由省、市和县级人民政府负责",
    "新兴城市发展迅速",
    "乡村振兴和惠民政策",
    "会同有关部门实施联合惩戒",
    "延长有效期，维护和平稳定，长治久安",
    "北京路上的化工企业",
    "雄安新区",
    "企业要安如泰山，此乃万全之策",
    "化工企业",
    "",
])
def test_find_regions_no_spurious_places(text):
    assert find_regions(text) == []


def test_find_regions_article_six_of_003_mentions_no_place():
    text = corpus_text("003")
    article = next(line for line in text.splitlines() if line.startswith("第六条"))
    assert "通报发展和改革" in article and len(article) > 100
    assert find_regions(article) == []


@pytest.mark.parametrize("prefix, allowed", [
    ("000", {"辽宁省营口市", "辽宁省营口市鲅鱼圈区"}),
    ("001", {"内蒙古自治区呼伦贝尔市陈巴尔虎旗", "内蒙古自治区呼伦贝尔市"}),
    ("002", {"安徽省淮南市", "江苏省淮安市"}),     # "淮安办﹝2021﹞73号" is printed in the document
    ("003", {"江苏省无锡市", "江苏省"}),
    ("004", {"辽宁省大连市庄河市", "辽宁省大连市", "辽宁省"}),
])
def test_corpus_lines_have_no_spurious_regions(prefix, allowed):
    """Every region found in any line of a real document is one the document really names."""
    text = corpus_text(prefix)
    found = set()
    for line in text.splitlines():
        got = find_regions(line)
        assert set(got) <= allowed, (line, got)
        found.update(got)
    assert found == allowed
    assert set(find_regions(text)) == allowed


def test_corpus_issuers():
    assert find_regions(corpus_text("003"))[0] == "江苏省无锡市"
    assert find_regions(corpus_text("001"))[0] == "内蒙古自治区呼伦贝尔市陈巴尔虎旗"
    assert "河南省平顶山市卫东区" not in find_regions(corpus_text("004"))   # "副组长:滕卫东" is a person


# ------------------------------------------------------------------ contains

@pytest.mark.parametrize("jurisdiction, region, expected", [
    ("辽宁省大连市庄河市", "辽宁省大连市甘井子区", False),
    ("庄河市", "甘井子区", False),
    ("江苏省无锡市", "江苏省无锡市江阴市", True),
    ("江苏省无锡市", "江阴市", True),
    ("辽宁省大连市", "庄河市", True),
    ("大连", "大连市庄河市", True),
    ("江苏省无锡市江阴市", "江苏省无锡市", False),     # the child does not contain its parent
    ("庄河", "辽宁省大连市庄河市", True),               # equal counts
    ("全国", "庄河", True),
    ("国家", "北京市朝阳区", True),
    ("全国", "全国", True),
    ("庄河", "全国", False),
    ("北京市", "朝阳区", True),
    ("北京市", "长春市朝阳区", False),
    ("吉林", "吉林市", True),
    ("吉林市", "吉林", False),
    ("河南省", "济源", True),
    ("江苏省", "营口", False),
    ("化工企业", "庄河", None),
    ("庄河", "化工企业", None),
    ("", "", None),
])
def test_contains(jurisdiction, region, expected):
    assert contains(jurisdiction, region) is expected


# ------------------------------------------------------------------ region_levels

@pytest.mark.parametrize("name, levels", [
    ("辽宁省大连市庄河市", ("辽宁省", "大连市", "庄河市")),
    ("庄河", ("辽宁省", "大连市", "庄河市")),
    ("辽宁省营口市", ("辽宁省", "营口市", None)),
    ("江苏省", ("江苏省", None, None)),
    ("北京市", ("北京市", "北京市", None)),
    ("北京市朝阳区", ("北京市", "北京市", "朝阳区")),
    ("内蒙古自治区呼伦贝尔市陈巴尔虎旗", ("内蒙古自治区", "呼伦贝尔市", "陈巴尔虎旗")),
    ("河南省济源市", ("河南省", None, "济源市")),
    ("全国", (None, None, None)),
    ("化工企业", (None, None, None)),
])
def test_region_levels(name, levels):
    assert region_levels(name) == levels


def test_full_names_round_trip_through_levels():
    for name in ["辽宁省大连市庄河市", "江苏省无锡市江阴市", "北京市朝阳区", "安徽省淮南市"]:
        p, c, k = region_levels(name)
        assert "".join(x for x in dict.fromkeys([p, c, k]) if x) == name


# ------------------------------------------------------------------ loading, data file

def test_import_is_cheap_and_quiet(tmp_path):
    """Importing does not load jionlp; the first call builds the table from jionlp without printing on stdout,
    and a later process reads the cached table."""
    code = (
        "import sys\n"
        "import nlp.regions as r\n"
        "assert 'jionlp' not in sys.modules, 'jionlp imported at module import'\n"
        "print(r.resolve_region('庄河'))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))  # a fresh cache directory
    for _ in range(2):  # built from jionlp, then read from the cache file
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout == "辽宁省大连市庄河市\n"
    assert list(tmp_path.glob("xinyi-regions-*.pickle"))


def test_table_is_built_once():
    assert regions._table() is regions._table()


def test_table_comes_from_jionlp_gazetteer():
    table = regions._table()
    assert len(table.keys) > 5000
    assert table.by_full["辽宁省大连市庄河市"].code == "210283"
    assert table.by_full["内蒙古自治区呼伦贝尔市陈巴尔虎旗"].code == "150725"


def test_stopword_file_has_header_and_only_real_keys():
    path = Path(regions.__file__).with_name("data") / "region_stopwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#")
    header = "\n".join(l for l in lines if l.startswith("#"))
    assert "jionlp" in header and "jieba" in header
    table = regions._table()
    assert table.stop, "stoplist is empty"
    assert not [w for w in table.stop if w not in table.keys]
    for word in ("公安", "和平", "城区", "新城区"):
        assert word in table.stop
