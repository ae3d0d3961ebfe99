"""German (de-DE wording)."""

TEXTS = {
    "CONNECTING": "Sie werden mit der Besprechung verbunden.",
    "PIN_ACCEPTED": "Danke. Sie werden mit der Besprechung verbunden.",
    "PIN_PROMPT": "Bitte geben Sie Ihre Besprechungs-PIN ein, gefolgt von der Rautetaste.",
    "PIN_WRONG": "Diese PIN wurde leider nicht erkannt.",
    "PIN_MISSING": "Wir haben keine PIN erhalten.",
    "PIN_FAILED": (
        "Diese PIN wurde leider nicht erkannt. Bitte prüfen Sie sie und rufen Sie erneut an. Auf Wiederhören."
    ),
    "LOCKED_OUT": (
        "Von diesem Telefon wurden leider zu viele falsche PINs eingegeben. "
        "Bitte versuchen Sie es später noch einmal. Auf Wiederhören."
    ),
    "UNKNOWN_NUMBER": "Diese Nummer gehört leider zu keiner Besprechung. Auf Wiederhören.",
    "NOT_STARTED": (
        "Die Besprechung hat noch nicht begonnen. Bitte bleiben Sie dran: "
        "Sie werden verbunden, sobald sie beginnt."
    ),
    "STILL_WAITING": "Die Besprechung hat immer noch nicht begonnen. Danke für Ihre Geduld.",
    "GAVE_UP": "Die Besprechung hat nicht begonnen. Bitte rufen Sie später noch einmal an. Auf Wiederhören.",
    "SESSION_ENDED": "Sie haben die Besprechung verlassen. Auf Wiederhören.",
    "UNAVAILABLE": (
        "Der Besprechungsdienst ist leider vorübergehend nicht erreichbar. "
        "Bitte versuchen Sie es in ein paar Minuten noch einmal. Auf Wiederhören."
    ),
    "PIN_PROMPT_SPOKEN": (
        "Bitte geben Sie Ihre Besprechungs-PIN ein, gefolgt von der Rautetaste, "
        "oder sagen Sie sie Ziffer für Ziffer."
    ),
    "DIAL_OUT_INVITE": "Hallo. Sie werden zu einer Besprechung eingeladen.",
    "DIAL_OUT_INVITE_BY": "Hallo. {caller} lädt Sie zu einer Besprechung ein.",
    "DIAL_OUT_ROOM": "Die Besprechung heißt {room}.",
    "DIAL_OUT_PRESS_ONE": "Um teilzunehmen, drücken Sie die 1.",
    "DIAL_OUT_NOT_CONFIRMED": "Sie wurden nicht mit der Besprechung verbunden. Auf Wiederhören.",
    # Room-aware joining.
    "MEETING_FULL": (
        "Die Besprechung ist voll. Bitte bleiben Sie dran: Sie werden verbunden, sobald ein Platz frei wird."
    ),
    "STILL_FULL": "Die Besprechung ist noch immer voll. Vielen Dank für Ihre Geduld.",
    "EVERYONE_LEFT": (
        "Alle anderen haben die Besprechung verlassen, daher wird dieser Anruf jetzt beendet. Auf "
        "Wiederhören."
    ),
    "PIN_OPENS_IN": (
        "Ihre PIN wird in {minutes} Minuten gültig. Bitte bleiben Sie dran: Sie werden verbunden, "
        "sobald sie gilt."
    ),
    "PIN_OPENS_SOON": (
        "Ihre PIN wird in einer Minute gültig. Bitte bleiben Sie dran: Sie werden verbunden, sobald sie gilt."
    ),
    "PIN_EXPIRED": "Diese PIN ist leider abgelaufen. Bitte prüfen Sie Ihre Einladung. Auf Wiederhören.",
    "TRY_LATER": (
        "Auf dieser Leitung können wir im Moment leider keine PINs annehmen. "
        "Bitte versuchen Sie es später noch einmal. Auf Wiederhören."
    ),
    "SLOW_PATH": "Bitte haben Sie einen Moment Geduld.",
    "STEP_EXPIRED": "Das hat leider zu lange gedauert. Bitte rufen Sie noch einmal an. Auf Wiederhören.",
    "REMOVED": "Sie wurden aus der Besprechung entfernt. Auf Wiederhören.",
    "MOVING": "Sie werden in {room} verschoben.",
}
