# Types for the part of wechatpy (untyped) that bot/wechat_adapter.py uses; nothing else
# imports wechatpy (import-linter's contract).
