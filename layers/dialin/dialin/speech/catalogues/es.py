"""Spanish (es-ES wording; understood in every Spanish-speaking country)."""

TEXTS = {
    "CONNECTING": "Le estamos conectando a la reunión.",
    "PIN_ACCEPTED": "Gracias. Le estamos conectando a la reunión.",
    "PIN_PROMPT": "Introduzca el PIN de la reunión, seguido de la tecla almohadilla.",
    "PIN_WRONG": "Lo sentimos, no reconocemos ese PIN.",
    "PIN_MISSING": "No hemos recibido ningún PIN.",
    "PIN_FAILED": "Lo sentimos, no reconocemos ese PIN. Compruébelo y vuelva a llamar. Adiós.",
    "LOCKED_OUT": (
        "Lo sentimos, se han introducido demasiados PIN incorrectos desde este teléfono. "
        "Inténtelo de nuevo más tarde. Adiós."
    ),
    "UNKNOWN_NUMBER": "Lo sentimos, este número no está asociado a ninguna reunión. Adiós.",
    "NOT_STARTED": "La reunión aún no ha comenzado. No cuelgue: entrará en cuanto comience.",
    "STILL_WAITING": "La reunión todavía no ha comenzado. Gracias por esperar.",
    "GAVE_UP": "La reunión no ha comenzado. Vuelva a llamar más tarde. Adiós.",
    "SESSION_ENDED": "Ha salido de la reunión. Adiós.",
    "UNAVAILABLE": (
        "Lo sentimos, el servicio de reuniones no está disponible en este momento. "
        "Inténtelo de nuevo en unos minutos. Adiós."
    ),
    "PIN_PROMPT_SPOKEN": (
        "Introduzca el PIN de la reunión, seguido de la tecla almohadilla, o dígalo cifra a cifra."
    ),
    "DIAL_OUT_INVITE": "Hola. Le invitan a unirse a una reunión.",
    "DIAL_OUT_INVITE_BY": "Hola. {caller} le invita a unirse a una reunión.",
    "DIAL_OUT_ROOM": "La reunión es {room}.",
    "DIAL_OUT_PRESS_ONE": "Para unirse, pulse 1.",
    "DIAL_OUT_NOT_CONFIRMED": "No se ha unido a la reunión. Adiós.",
    # Room-aware joining.
    "MEETING_FULL": "La reunión está completa. No cuelgue: entrará en cuanto haya un sitio libre.",
    "STILL_FULL": "La reunión sigue completa. Gracias por esperar.",
    "EVERYONE_LEFT": "Todos los demás han salido de la reunión, así que esta llamada va a finalizar. Adiós.",
    "PIN_OPENS_IN": "Su PIN será válido dentro de {minutes} minutos. No cuelgue: entrará en cuanto lo sea.",
    "PIN_OPENS_SOON": "Su PIN será válido dentro de un minuto. No cuelgue: entrará en cuanto lo sea.",
    "PIN_EXPIRED": "Lo sentimos, ese PIN ha caducado. Consulte su invitación. Adiós.",
    "TRY_LATER": (
        "Lo sentimos, ahora mismo no podemos recibir PIN en esta línea. Inténtelo de nuevo más tarde. Adiós."
    ),
    "SLOW_PATH": "Espere un momento, por favor.",
    "STEP_EXPIRED": "Lo sentimos, ha tardado demasiado. Vuelva a llamar. Adiós.",
    "REMOVED": "Le han retirado de la reunión. Adiós.",
    "MOVING": "Le estamos pasando a {room}.",
}
