"""The baseline for bench/webhook.py: a bare Flask + wechatpy bot that checks the signature,
parses the message and echoes it back, with no database."""

from flask import Flask, Response, abort, request
from wechatpy import parse_message  # noqa: TID251  (a benchmark baseline, not fangfan)
from wechatpy.exceptions import InvalidSignatureException  # noqa: TID251
from wechatpy.replies import create_reply  # noqa: TID251
from wechatpy.utils import check_signature  # noqa: TID251

TOKEN = "fangfandemo"
app = Flask(__name__)


@app.post("/wechat/mp")
def echo() -> Response:
    try:
        check_signature(TOKEN, request.args.get("signature", ""),
                        request.args.get("timestamp", ""), request.args.get("nonce", ""))
    except InvalidSignatureException:
        abort(403)
    msg = parse_message(request.get_data())
    reply = create_reply(getattr(msg, "content", "success"), msg).render()
    return Response(reply, mimetype="application/xml")
