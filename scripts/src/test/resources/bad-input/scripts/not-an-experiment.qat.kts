val experiments = 2
experiments * 21
