# A plugin with a syntax error on line 3.
def broken(:
    pass
