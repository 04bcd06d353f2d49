"""The bot's commands, platform-neutral: parse → check the level → call a device service or a
selector → a reply (`replies.Reply`: plain text, rows of buttons). They know no platform: the
Telegram adapter (`bots.telegram`) and later an eXpress one turn what came in into an
`incoming.Incoming`, call `dispatch`, and turn the replies into their platform's calls.

    replies = handle_text(incoming, "/status 0123456789abcdef", bot_username="switchboard_bot")
    reply = handle_callback(incoming, "dv:2")

Levels (`access.Level`): anyone; a reader (a chat with access to an owner's devices: a manager,
or a chat of the TELEGRAM_CHAT_ID setting, which sees every owner); an administrator (also
config changes). A chat without access sees nothing and is told how to get access; a manager
asking for a config change is told that only administrators can. A button press checks the
level again: the button may be older than the chat's role.

Commands (module):
    /start [token]       accounts   without a token: registers the chat, says how to get access;
                                    with one: redeems the invitation (expired, used up, withdrawn,
                                    unknown: said in plain words)
    /help                dispatch   the commands the chat's level allows
    /chatid              accounts   the chat's id
    /forget_me           accounts   asks to confirm, then removes the chat (`fm:yes`, `fm:no`)
    /devices             fleet      the devices in scope, 10 a page (`dv:<page>`)
    /status <id>         fleet      one device: owner, city, type, model, online, config, applied
    /add_device <id>     fleet      follow a device (told about followed devices only)
    /remove_device <id>  fleet      stop following it
    /notify              notify     event kinds on and off (`nt:<reg|off|on|chg|app>`)
    /change_config <id> interval=<s> qos=<n>
                         config_change  administrators: old → new, confirmed by a button
                                    (`cc:<id>:<interval|->:<qos|->:<version seen>`, `cc:no`)

A device outside the chat's scope is "not found", exactly like one that does not exist.

The seam for the operator bridge: `handle_text` returns None for private text that is no
command — a person writing to a human operator (Webim, next issue). The adapter hands it to the
bridge, or while there is none answers `stray_text_reply`. In groups such text is ignored ([]).

Every answer is rendered in the bot user's language (`BotUser.language`: ru, uk, en; English is
the fallback), from the catalogs in `bots/locale/` (see its README for updating them).
"""
