"""French (fr-FR wording)."""

TEXTS = {
    "CONNECTING": "Nous vous connectons à la réunion.",
    "PIN_ACCEPTED": "Merci. Nous vous connectons à la réunion.",
    "PIN_PROMPT": "Veuillez saisir le code PIN de la réunion, suivi de la touche dièse.",
    "PIN_WRONG": "Désolé, ce code PIN n'est pas reconnu.",
    "PIN_MISSING": "Nous n'avons reçu aucun code PIN.",
    "PIN_FAILED": "Désolé, ce code PIN n'est pas reconnu. Veuillez le vérifier et rappeler. Au revoir.",
    "LOCKED_OUT": (
        "Désolé, trop de codes PIN erronés ont été saisis depuis ce téléphone. "
        "Veuillez réessayer plus tard. Au revoir."
    ),
    "UNKNOWN_NUMBER": "Désolé, ce numéro n'est associé à aucune réunion. Au revoir.",
    "NOT_STARTED": (
        "La réunion n'a pas encore commencé. Restez en ligne : vous la rejoindrez dès qu'elle commencera."
    ),
    "STILL_WAITING": "La réunion n'a toujours pas commencé. Merci de patienter.",
    "GAVE_UP": "La réunion n'a pas commencé. Veuillez rappeler plus tard. Au revoir.",
    "SESSION_ENDED": "Vous avez quitté la réunion. Au revoir.",
    "UNAVAILABLE": (
        "Désolé, le service de réunion est momentanément indisponible. "
        "Veuillez réessayer dans quelques minutes. Au revoir."
    ),
    "PIN_PROMPT_SPOKEN": (
        "Veuillez saisir le code PIN de la réunion, suivi de la touche dièse, ou le dire chiffre par chiffre."
    ),
    "DIAL_OUT_INVITE": "Bonjour. Vous êtes invité à rejoindre une réunion.",
    "DIAL_OUT_INVITE_BY": "Bonjour. {caller} vous invite à rejoindre une réunion.",
    "DIAL_OUT_ROOM": "La réunion s'appelle {room}.",
    "DIAL_OUT_PRESS_ONE": "Pour la rejoindre, appuyez sur 1.",
    "DIAL_OUT_NOT_CONFIRMED": "Vous n'avez pas rejoint la réunion. Au revoir.",
    # Room-aware joining.
    "MEETING_FULL": (
        "La réunion est complète. Restez en ligne : vous la rejoindrez dès qu'une place se libère."
    ),
    "STILL_FULL": "La réunion est toujours complète. Merci de patienter.",
    "EVERYONE_LEFT": (
        "Tous les autres participants ont quitté la réunion, cet appel va donc prendre fin. Au revoir."
    ),
    "PIN_OPENS_IN": (
        "Votre code PIN sera valide dans {minutes} minutes. Restez en ligne : vous rejoindrez la "
        "réunion dès qu'il le sera."
    ),
    "PIN_OPENS_SOON": (
        "Votre code PIN sera valide dans une minute. Restez en ligne : vous rejoindrez la réunion "
        "dès qu'il le sera."
    ),
    "PIN_EXPIRED": "Désolé, ce code PIN a expiré. Veuillez vérifier votre invitation. Au revoir.",
    "TRY_LATER": (
        "Désolé, nous ne pouvons pas recevoir de code PIN sur cette ligne pour le moment. "
        "Veuillez réessayer plus tard. Au revoir."
    ),
    "SLOW_PATH": "Veuillez patienter un instant.",
    "STEP_EXPIRED": "Désolé, le délai est dépassé. Veuillez rappeler. Au revoir.",
    "REMOVED": "Vous avez été retiré de la réunion. Au revoir.",
    "MOVING": "Nous vous transférons vers {room}.",
}
