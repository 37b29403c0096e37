"""The baseline for bench/webhook.py: a bare Flask + wechatpy bot that checks the signature,
decrypts the message (safe mode), parses it and echoes it back encrypted, with no database."""

import os

from flask import Flask, Response, abort, request
from wechatpy import parse_message  # noqa: TID251  (a benchmark baseline, not fangfan)
from wechatpy.crypto import WeChatCrypto  # noqa: TID251
from wechatpy.exceptions import InvalidSignatureException  # noqa: TID251
from wechatpy.replies import create_reply  # noqa: TID251
from wechatpy.utils import check_signature  # noqa: TID251

# the account bench/webhook.py starts both servers with
TOKEN = os.environ["FANGFAN_WECHAT_MP_TOKEN"]
crypto = WeChatCrypto(TOKEN, os.environ["FANGFAN_WECHAT_MP_ENCODING_AES_KEY"], "wxfangfandemo0001")
app = Flask(__name__)


@app.post("/wechat/mp")
def echo() -> Response:
    try:
        check_signature(TOKEN, request.args.get("signature", ""),
                        request.args.get("timestamp", ""), request.args.get("nonce", ""))
    except InvalidSignatureException:
        abort(403)
    args = request.args
    body = request.get_data()
    if args.get("encrypt_type") == "aes":
        body = crypto.decrypt_message(body, args.get("msg_signature", ""),
                                      args.get("timestamp", ""), args.get("nonce", ""))
    msg = parse_message(body)
    reply = create_reply(getattr(msg, "content", "success"), msg).render()
    if args.get("encrypt_type") == "aes":
        reply = crypto.encrypt_message(reply, args.get("nonce", ""), args.get("timestamp", ""))
    return Response(reply, mimetype="application/xml")
