"""Drives the twindisk mail servers with Python's standard smtplib and poplib.

Reads a JSON list of steps on stdin, prints a JSON list of results on stdout. Messages
travel as hex so that every byte is compared exactly. Used by test/mail-clients.test.ts.
"""
import json
import poplib
import smtplib
import sys


def send(step):
    msg = bytes.fromhex(step["msg_hex"])
    try:
        with smtplib.SMTP("127.0.0.1", step["port"], timeout=10) as s:
            s.ehlo("client.example")
            refused = s.sendmail(step["from"], step["to"], msg)
            return {"ok": True, "refused": {k: v[0] for k, v in refused.items()}, "size": s.esmtp_features.get("size")}
    except smtplib.SMTPRecipientsRefused as e:
        return {"ok": False, "error": "recipients", "codes": {k: v[0] for k, v in e.recipients.items()}}
    except smtplib.SMTPSenderRefused as e:
        return {"ok": False, "error": "sender", "code": e.smtp_code}
    except smtplib.SMTPDataError as e:
        return {"ok": False, "error": "data", "code": e.smtp_code}


def fetch(step):
    p = poplib.POP3("127.0.0.1", step["port"], timeout=10)
    try:
        p.user(step["user"])
        try:
            p.pass_(step["password"])
        except poplib.error_proto as e:
            return {"ok": False, "error": e.args[0].decode("latin1")}
        count, size = p.stat()
        listing = [line.decode() for line in p.list()[1]]
        uidl = [line.decode() for line in p.uidl()[1]]
        messages = []
        for n in range(1, count + 1):
            lines = p.retr(n)[1]
            messages.append((b"\r\n".join(lines) + b"\r\n").hex())
        if step.get("delete"):
            for n in range(1, count + 1):
                p.dele(n)
            if step.get("rset"):
                p.rset()
        if step.get("noquit"):
            p.sock.close()
            return {"ok": True, "count": count, "size": size, "list": listing, "uidl": uidl, "messages": messages}
        bye = p.quit().decode("latin1")
        return {"ok": True, "count": count, "size": size, "list": listing, "uidl": uidl, "messages": messages, "bye": bye}
    finally:
        try:
            p.close()
        except Exception:
            pass


def main():
    steps = json.load(sys.stdin)
    out = []
    for step in steps:
        out.append(send(step) if step["op"] == "send" else fetch(step))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
