class Solution:
    def minEditDistance(self, source: str, target: str) -> int:
        