from tests.bot.conftest import fake_api  # noqa: F401  (the fake WeChat API, on 127.0.0.1)
