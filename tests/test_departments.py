"""Department names: lists as printed, canonical bodies by gazetteer and rapidfuzz, per-item responsibility."""
import pytest

from nlp.departments import canonical_department, split_department_list
from nlp.extract import item_departments


@pytest.mark.parametrize("name,body", [
    ("市发展改革委", "发展和改革部门"), ("市发展和改革委员会", "发展和改革部门"), ("发展和改革部门", "发展和改革部门"),
    ("营口银保监分局", "银行保险监督管理部门"), ("国家税务总局营口市税务局", "税务部门"), ("市人社局", "人力资源和社会保障部门"),
    ("县（市、区）级以上应急管理部门", "应急管理部门"), ("鲅鱼圈海关", "海关"), ("化工企业", None),
])
def test_canonical(name, body):
    assert canonical_department(name) == body


def test_lists_keep_printed_names_and_drop_generic_tails():
    assert split_department_list("市发展改革局、市经信局、市商务局、中国人民银行庄河市支行等部门单位,各有关行业协会") == \
        ["市发展改革局", "市经信局", "市商务局", "中国人民银行庄河市支行", "各有关行业协会"]
    assert split_department_list("发展和改革、科技、工业和信息化、财政、人力资源社会保障、行政审批部门、工会组织、证券监督管理机构以及有关金融机构") == \
        ["发展和改革", "科技", "工业和信息化", "财政", "人力资源社会保障", "行政审批部门", "工会组织", "证券监督管理机构", "有关金融机构"]
    assert split_department_list("县应急局；配合单位：县市场监管局、县融媒体中心") == ["县应急局", "县市场监管局", "县融媒体中心"]


@pytest.mark.parametrize("item,text,depts", [
    ("限制参与政府采购活动。（责任单位：县财政局）", "限制参与政府采购活动。", ["县财政局"]),
    ("依法限制参与政府采购活动。实施部门：市财政局", "依法限制参与政府采购活动。", ["市财政局"]),
    ("限制新增项目审批、核准。（发展改革委、财政局）", "限制新增项目审批、核准。", ["发展改革委", "财政局"]),
    ("在政府投资项目中予以支持（包括国家重点项目）。", "在政府投资项目中予以支持（包括国家重点项目）。", []),
])
def test_item_departments(item, text, depts):
    assert item_departments(item) == (text, depts)
