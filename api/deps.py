from fastapi import Request

import voc


def get_nlp(request: Request) -> voc.Pipeline:
    return request.app.state.nlp
