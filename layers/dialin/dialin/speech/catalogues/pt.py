"""Portuguese (pt-BR wording; clear in pt-PT too)."""

TEXTS = {
    "CONNECTING": "Conectando você à reunião.",
    "PIN_ACCEPTED": "Obrigado. Conectando você à reunião.",
    "PIN_PROMPT": "Digite o PIN da reunião, seguido da tecla sustenido.",
    "PIN_WRONG": "Desculpe, esse PIN não foi reconhecido.",
    "PIN_MISSING": "Não recebemos nenhum PIN.",
    "PIN_FAILED": "Desculpe, esse PIN não foi reconhecido. Verifique-o e ligue novamente. Até logo.",
    "LOCKED_OUT": (
        "Desculpe, foram digitados muitos PINs incorretos neste telefone. "
        "Tente novamente mais tarde. Até logo."
    ),
    "UNKNOWN_NUMBER": "Desculpe, este número não está associado a nenhuma reunião. Até logo.",
    "NOT_STARTED": "A reunião ainda não começou. Permaneça na linha: você entrará assim que ela começar.",
    "STILL_WAITING": "A reunião ainda não começou. Obrigado por aguardar.",
    "GAVE_UP": "A reunião não começou. Ligue novamente mais tarde. Até logo.",
    "SESSION_ENDED": "Você saiu da reunião. Até logo.",
    "UNAVAILABLE": (
        "Desculpe, o serviço de reuniões está temporariamente indisponível. "
        "Tente novamente em alguns minutos. Até logo."
    ),
    "PIN_PROMPT_SPOKEN": (
        "Digite o PIN da reunião, seguido da tecla sustenido, ou diga um dígito de cada vez."
    ),
    "DIAL_OUT_INVITE": "Olá. Você foi convidado para uma reunião.",
    "DIAL_OUT_INVITE_BY": "Olá. {caller} convida você para uma reunião.",
    "DIAL_OUT_ROOM": "A reunião se chama {room}.",
    "DIAL_OUT_PRESS_ONE": "Para entrar, pressione 1.",
    "DIAL_OUT_NOT_CONFIRMED": "Você não entrou na reunião. Até logo.",
    # Room-aware joining.
    "MEETING_FULL": "A reunião está cheia. Permaneça na linha: você entrará assim que houver uma vaga.",
    "STILL_FULL": "A reunião ainda está cheia. Obrigado por aguardar.",
    "EVERYONE_LEFT": (
        "Todos os outros participantes saíram da reunião, por isso esta chamada será encerrada. Até logo."
    ),
    "PIN_OPENS_IN": (
        "Seu PIN será válido em {minutes} minutos. Permaneça na linha: você entrará assim que ele for válido."
    ),
    "PIN_OPENS_SOON": (
        "Seu PIN será válido em um minuto. Permaneça na linha: você entrará assim que ele for válido."
    ),
    "PIN_EXPIRED": "Desculpe, esse PIN expirou. Verifique seu convite. Até logo.",
    "TRY_LATER": (
        "Desculpe, não podemos receber PINs nesta linha agora. Tente novamente mais tarde. Até logo."
    ),
    "SLOW_PATH": "Aguarde um momento, por favor.",
    "STEP_EXPIRED": "Desculpe, o tempo se esgotou. Ligue novamente. Até logo.",
    "REMOVED": "Você foi removido da reunião. Até logo.",
    "MOVING": "Transferindo você para {room}.",
}
