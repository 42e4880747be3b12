def reverse_words(text):
	