#!/usr/bin/python3
"""dusty-chat in a real browser: two headless Chromium sessions talk through the page.

    /usr/bin/python3 tests/apps/chat_browser_test.py build/release/apps/chat/dusty-chat

Starts dusty-chat on 127.0.0.1 with two shards and a port the kernel picks (read from
its "dusty-chat serving http://..." line), opens two Chromium sessions (headless, through
Debian's chromium-driver and python3-selenium, each with a temporary profile directory),
joins the room as "alice" and "bob" through the page's form, has each send a message
through the page's input and button, and checks that each page shows the other's
message, and that a message with HTML in it is shown as text. Then dusty-chat must exit
0 on SIGTERM.

The two browsers open several connections (the page, then the WebSocket), which the
kernel spreads over the two shards by hash; the room reaches both shards either way.

DUSTY_BACKEND (io_uring, epoll) is passed on as --backend. Exit status 0 when every check
passed; the last line is "chat_browser: N passed, M failed".
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20  # seconds any one thing may take in the browser
passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def start_chat(binary):
    args = [binary, "--address", "127.0.0.1", "--port", "0", "--shards", "2"]
    if os.environ.get("DUSTY_BACKEND"):
        args += ["--backend", os.environ["DUSTY_BACKEND"]]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()  # the first line says where it serves, or why it cannot
    match = re.search(r"dusty-chat serving (http://\S+?)/? ", line)
    if not match:
        proc.kill()
        sys.exit("dusty-chat did not start: " + line + proc.stdout.read())
    return proc, match.group(1)


def browser(profile_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + profile_dir):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def join(driver, url, name):
    driver.get(url + "/")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "join-button").click()
    WebDriverWait(driver, WAIT).until(ec.element_to_be_clickable((By.ID, "send")))


def say(driver, text):
    driver.find_element(By.ID, "text").send_keys(text)
    driver.find_element(By.ID, "send").click()


def lines(driver):
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#log li")]


def sees(driver, wanted):
    try:
        WebDriverWait(driver, WAIT).until(lambda d: wanted in lines(d))
        return True
    except Exception:
        return False


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: chat_browser_test.py path/to/dusty-chat")
    for tool in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.path.exists(tool):
            sys.exit(tool + " is missing: run scripts/setup.sh")
    proc, url = start_chat(sys.argv[1])
    scratch = tempfile.mkdtemp(prefix="dusty-chat-test-")
    # Chromium's caches and settings go to the scratch directory too, not to $HOME.
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = os.path.join(scratch, var.lower())
    drivers = []
    try:
        alice = browser(os.path.join(scratch, "alice"))
        drivers.append(alice)
        bob = browser(os.path.join(scratch, "bob"))
        drivers.append(bob)
        join(alice, url, "alice")
        join(bob, url, "bob")
        check(sees(alice, "bob joined"), "alice sees bob join")
        say(alice, "hello from alice")
        say(bob, "hi alice, bob here")
        check(sees(bob, "alice hello from alice"), "bob sees alice's message")
        check(sees(alice, "bob hi alice, bob here"), "alice sees bob's message")
        check(sees(alice, "alice hello from alice"), "alice sees her own message")
        say(bob, "<b>not bold</b>")
        check(sees(alice, "bob <b>not bold</b>"), "markup is shown as text")
        check(not alice.find_elements(By.CSS_SELECTOR, "#log b"), "no element made from a message")
        check(all(len(lines(d)) == len(set(lines(d))) for d in drivers), "no line shown twice")
        bob.quit()
        drivers.remove(bob)
        check(sees(alice, "bob left"), "alice sees bob leave")
    finally:
        for d in drivers:
            d.quit()
        shutil.rmtree(scratch, ignore_errors=True)
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = None
    check(status == 0, "dusty-chat exits 0 on SIGTERM (got %s)" % status)
    print("chat_browser: %d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
