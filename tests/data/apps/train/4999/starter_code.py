def next_bigger(n):
	