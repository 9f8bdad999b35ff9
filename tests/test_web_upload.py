"""The staff view's upload in a real headless Chromium (the fixtures of test_web_page.py) against a server started
with uploads allowed and a token, over a temporary copy of the seeds KB: enter the token, choose a file, 上传, see
"已加入" with what was found, and the document in the refreshed list; a wrong token is told in Chinese. A server
without write access shows no upload form (test_web_page.py: the read-only staff view)."""
from __future__ import annotations

import shutil

import pytest

from test_api import serving
from test_upload import TOKEN, seed_like
from test_web_page import browser, expect, open_page, page, shot, shots  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def upload_base(kb_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-upload")
    db = folder / "kb.sqlite"
    shutil.copyfile(kb_path, db)
    with serving(db, sessions_path=folder / "sessions.sqlite", write_token=TOKEN, allow_uploads=True) as url:
        yield url


def test_staff_uploads_a_file_and_sees_it_added_and_listed(page, upload_base, shots, tmp_path):
    upload = tmp_path / "宜兴办法.txt"
    upload.write_bytes(seed_like())
    open_page(page, upload_base, "staff")
    panel = page.locator("#upload-panel")
    expect(panel).to_be_visible()
    expect(page.locator(".notice")).not_to_contain_text("本服务只读。")
    expect(page.locator("#staff-docs li")).to_have_count(5)
    # a wrong token first: told in Chinese, nothing added
    page.get_by_label("工作人员令牌").fill("wrong")
    page.get_by_label("文件（.txt .html .docx .pdf，可多选）").set_input_files(str(upload))
    page.get_by_role("button", name="上传").click()
    expect(page.locator("#upload-status")).to_have_text("令牌不正确，请检查后重新输入。")
    # the right token: added, with what was found, and listed
    page.get_by_label("工作人员令牌").fill(TOKEN)
    page.get_by_label("文件（.txt .html .docx .pdf，可多选）").set_input_files(str(upload))
    page.get_by_role("button", name="上传").click()
    result = page.locator("#upload-results li")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("已加入：宜兴办法.txt，措施 25 项、条件 19 项")
    expect(page.locator("#upload-status")).to_have_text("完成：1 个文件入库，0 个未能读取。")
    expect(page.locator("#staff-docs li")).to_have_count(6)
    expect(page.locator("#staff-docs")).to_contain_text("宜兴市安全生产领域信用示范管理办法")
    assert page.evaluate("() => sessionStorage.getItem('xinyi.staffToken')") == TOKEN
    shot(page, shots, "staff_upload")
    # the documents view shows it too
    page.locator("#staff-docs a", has_text="宜兴市安全生产领域信用示范管理办法").click()
    expect(page.locator(".doc-meta")).to_contain_text("第 1 版")
    # the browser logs the refused (401) request as a console error; nothing else may be there
    page.problems[:] = [p for p in page.problems if "401" not in p]
